"""What people read: words and numbers, charts, the workbook, the HTML report and the results folder.

Nothing here runs a simulation: every output is made from a result.
"""
