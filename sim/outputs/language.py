"""Words and numbers in Danish or English: labels, titles and number formats.

Charts, the workbook, the HTML report and the terminal summary take every
word from :data:`TEXT` and every number through the functions here, so a
report is in one language throughout. Number formats come from the Unicode
CLDR through Babel: Danish "1.234.567 kr." and "3,5 %", English
"DKK 1,234,567" and "3.5 %". CSV files keep English column names and plain
decimals at a stated precision per kind of number (:data:`PRECISION`): they
are for programs, not for reading.
"""

from __future__ import annotations

import decimal as decimal_module
import functools
import math
import re
from typing import Literal

import numpy as np
from babel import Locale
from babel.numbers import NumberPattern, get_currency_symbol, parse_pattern

from sim.errors import OptionError

Lang = Literal["da", "en"]
LANGUAGES: tuple[Lang, ...] = ("da", "en")
_LOCALE = {"da": "da_DK", "en": "en_GB"}


@functools.cache
def _locale(lang: Lang) -> Locale:
    # Parsed once: babel would parse the name at every number (the what-if page writes hundreds a second).
    return Locale.parse(_LOCALE[lang])


NBSP = "\u00a0"  # keeps "3,5 %" and "12 mio. kr." on one line

# key: (English, Danish). Placeholders are filled by :func:`t`.
TEXT: dict[str, tuple[str, str]] = {
    # axes and legends
    "year": ("Year", "År"),
    "children": ("Children", "Børn"),
    # The placements-avoided chart's bars count placements (a child placed twice, twice), its line children.
    "placements_and_children": ("Placements (bars), children (line)", "Anbringelser (søjler), børn (linje)"),
    "year_stock": ("Year (children on each step at 31 December)", "År (børn på hvert trin pr. 31. december)"),
    "step_legend": ("Step (hatched: placement)", "Trin (skraveret: anbringelse)"),
    "interval_reps": ("Range of outcomes (90 % of replications)", "Udfaldsrum (90 % af kørslerne)"),
    # What a key figure's interval column holds (key_figures' interval_kind).
    "ik_rough": ("; rough: {n}", "; usikkert: {n}"),
    "ik_reps": (
        "range of outcomes: 90 % of replications (chance)",
        "udfaldsrum: 90 % af kørslerne (tilfældighed)",
    ),
    "ik_psa": (
        "90 % of parameter draws (uncertain assumptions)",
        "90 % af parametertrækkene (usikre forudsætninger)",
    ),
    "ik_psa_des": (
        "90 % of draws (uncertain assumptions and chance)",
        "90 % af trækkene (usikre forudsætninger og tilfældighed)",
    ),
    "with": ("with the strategy", "med strategien"),
    "without": ("without the strategy", "uden strategien"),
    "strategy_starts": ("strategy starts {year}", "strategien starter {year}"),
    "discounted": ("{currency} (discounted)", "{currency} (tilbagediskonteret)"),
    # staircase chart
    "staircase_title_cmp": (
        "Placed children at end of {year}: {a} with the strategy, {b} without",
        "Anbragte børn ved udgangen af {year}: {a} med strategien, {b} uden",
    ),
    "staircase_title_one": (
        "Placed children: {a} at end of {y0}, {b} at end of {y1}",
        "Anbragte børn: {a} ved udgangen af {y0}, {b} ved udgangen af {y1}",
    ),
    "mean_of": (
        "Mean of {n}, engine: {engine}.",
        "Gennemsnit af {n}, beregning: {engine}.",
    ),
    "mean_of_exact": (
        "Exact means: the analytic engine solves this model; {n} simulated as a check.",
        "Eksakte gennemsnit: den analytiske model løser denne model; {n} simuleret som kontrol.",
    ),
    "means_reps": ("mean of {n}", "gennemsnit af {n}"),
    "means_exact": (
        "exact means (the analytic engine solves this model)",
        "eksakte gennemsnit (den analytiske model løser denne model)",
    ),
    # placements avoided chart
    "entries_avoided_bar": ("New placements avoided in the year", "Nye anbringelser undgået i året"),
    "fewer_placed_line": ("Fewer children placed at 31 December", "Færre anbragte børn pr. 31. december"),
    "negative_is_more": ("(below zero: more)", "(under nul: flere)"),
    "avoided_title": ("{n} new placements avoided {y0}-{y1}", "{n} nye anbringelser undgået {y0}-{y1}"),
    "interval_short": ("90 % range of outcomes: {lo} to {hi}", "90 %-udfaldsrum: {lo} til {hi}"),
    "avoided_note": (
        "Counted over {y0}-{y1}: a placement only delayed within these years is not counted as avoided; "
        "one delayed beyond {y1} is. The line shows the lasting effect.",
        "Talt over {y0}-{y1}: en anbringelse, der kun udskydes inden for årene, tælles ikke som undgået; "
        "det gør derimod en anbringelse, der udskydes til efter {y1}. Linjen viser den varige effekt.",
    ),
    "headline_exact": (
        "means exact from the analytic model, ranges of outcomes from the discrete-event simulation",
        "eksakte gennemsnit fra den analytiske model, udfaldsrum fra den diskrete hændelsessimulering",
    ),
    # What each chart shows, for the report's image descriptions (alt texts).
    "chart_placed_children": (
        "Chart: placed children with and without the strategy",
        "Diagram: anbragte børn med og uden strategien",
    ),
    "chart_staircase": ("Chart: children on each step by year", "Diagram: børn på hvert trin pr. år"),
    "chart_placements_avoided": (
        "Chart: new placements avoided by year",
        "Diagram: nye anbringelser undgået pr. år",
    ),
    "chart_payback": (
        "Chart: cumulative net savings, discounted, and the payback year",
        "Diagram: akkumuleret nettobesparelse, tilbagediskonteret, og hjemtjeningsåret",
    ),
    "chart_waterfall": (
        "Chart: from investment and savings to the net present value",
        "Diagram: fra investering og besparelser til nettonutidsværdien",
    ),
    "chart_waiting_list": ("Chart: children waiting for a place", "Diagram: børn, der venter på en plads"),
    "chart_utilisation": ("Chart: places in use", "Diagram: pladser i brug"),
    "chart_breakeven": (
        "Chart: probability of having paid back, by year",
        "Diagram: sandsynlighed for at være hjemtjent, pr. år",
    ),
    "chart_npv_distribution": (
        "Chart: net present value over the draws",
        "Diagram: nettonutidsværdien over trækkene",
    ),
    "chart_tornado": (
        "Chart: how much each uncertain number moves the outcome",
        "Diagram: hvor meget hvert usikkert tal flytter resultatet",
    ),
    "chart_calibration": (
        "Chart: the calibrated model against the data",
        "Diagram: den kalibrerede model mod data",
    ),
    "wilson": ("precision (95 %): {interval}", "præcision (95 %): {interval}"),
    "every_run": ("{value} in every replication", "{value} i alle kørsler"),
    "delayed_note": (
        "A placement only delayed within {y0}-{y1} is not counted as avoided; one delayed beyond {y1} is.",
        "En anbringelse, der kun udskydes inden for {y0}-{y1}, tælles ikke som undgået; det gør derimod en "
        "anbringelse, der udskydes til efter {y1}.",
    ),
    # payback chart
    "cum_net": ("Cumulative net savings (mean)", "Akkumuleret nettobesparelse (gennemsnit)"),
    "no_payback_title": (
        "No payback within the horizon (by {year})",
        "Tjener sig ikke hjem inden udgangen af {year}",
    ),
    "no_lasting_title": (
        "No lasting payback by {year} (in surplus {span})",
        "Tjener sig ikke varigt hjem inden udgangen af {year} (i plus {span})",
    ),
    "no_payback_mark": ("no payback within horizon", "tjener sig ikke hjem inden for perioden"),
    "no_lasting_mark": (
        "no lasting payback within horizon",
        "tjener sig ikke varigt hjem inden for perioden",
    ),
    "payback_mark": ("payback {year}", "hjemtjent {year}"),
    "payback_title": (
        "Pays back in {year}; net present value {npv} by {y1}",
        "Tjener sig hjem i {year}; nettonutidsværdi {npv} frem til {y1}",
    ),
    "payback_note": (
        "Savings in placements and other steps less the programme's cost. ",
        "Besparelser på anbringelser og andre trin fratrukket strategiens udgifter. ",
    ),
    # waterfall
    "investment": ("Investment", "Investering"),
    "savings_on": ("Savings: {step}", "Besparelse: {step}"),
    "npv": ("Net present value", "Nettonutidsværdi"),
    "waterfall_title": (
        "Net present value {npv}: {savings} saved for {investment} invested",
        "Nettonutidsværdi {npv}: {savings} sparet for {investment} investeret",
    ),
    "waterfall_title_cost": (
        "Net present value {npv}: {savings} more spent on the steps, besides {investment} invested",
        "Nettonutidsværdi {npv}: {savings} mere brugt på trinene ud over {investment} investeret",
    ),
    "waterfall_note": (
        "Present values {y0}-{y1}, {means}. Long-run adult consequences after the horizon are not included. ",
        "Nutidsværdier {y0}-{y1}, {means}. Langsigtede konsekvenser i voksenlivet efter "
        "perioden er ikke medregnet. ",
    ),
    # capacity charts
    "waiting_end": ("Children waiting at 31 December", "Børn på venteliste pr. 31. december"),
    "sent_on": ("Children sent on to another step in the year", "Børn sendt videre til et andet trin i året"),
    "waiting_title_cmp": (
        "Waiting for a place at end of {year}: {a} with the strategy, {b} without",
        "På venteliste ved udgangen af {year}: {a} med strategien, {b} uden",
    ),
    "waiting_title_one": (
        "{a} children waiting for a place at end of {year}",
        "{a} børn på venteliste ved udgangen af {year}",
    ),
    "capacity_note": (
        "Mean of {n}. Only steps with a limited number of places.",
        "Gennemsnit af {n}. Kun trin med et begrænset antal pladser.",
    ),
    "in_use": ("Places in use over the year (%)", "Pladser i brug over året (%)"),
    "in_use_title": ("Places in use in {year}: up to {share}", "Pladser i brug i {year}: op til {share}"),
    "in_use_title_cmp": (
        "Places in use in {year}: up to {a} with the strategy, {b} without",
        "Pladser i brug i {year}: op til {a} med strategien, {b} uden",
    ),
    # PSA charts
    "p_paid_back": ("Probability of having paid back (%)", "Sandsynlighed for at være hjemtjent (%)"),
    "more_likely_from": ("more likely than not from {year}", "over 50 % sandsynligt fra {year}"),
    "less_likely": ("in no year more likely than not", "i intet år over 50 % sandsynligt"),
    "breakeven_title": (
        "Paid back by {year} in {share} of {n} draws; {first}",
        "Hjemtjent senest {year} i {share} af {n} træk; {first}",
    ),
    "psa_note": (
        "Probabilistic sensitivity analysis: all uncertain numbers drawn together. ",
        "Probabilistisk følsomhedsanalyse: alle usikre tal trukket samtidig. ",
    ),
    "npv_axis": ("Net present value ({currency})", "Nettonutidsværdi ({currency})"),
    "draws": ("Draws", "Træk"),
    "npv_dist_title": (
        "NPV {mean} on average (90 %: {lo} to {hi});\npositive in {share} of draws",
        "Nettonutidsværdi {mean} i gennemsnit (90 %: {lo} til {hi});\npositiv i {share} af trækkene",
    ),
    "low_pct": (
        "low value (low bound, else 5th percentile)",
        "lav værdi (nedre grænse, ellers 5. percentil)",
    ),
    "high_pct": (
        "high value (high bound, else 95th percentile)",
        "høj værdi (øvre grænse, ellers 95. percentil)",
    ),
    "depends_most": ("{outcome} depends most on {name}", "{outcome} afhænger mest af {name}"),
    "no_uncertain": ("no uncertain number", "intet usikkert tal"),
    "others_at_mean": ("All other numbers at their means. ", "Alle andre tal på deres middelværdi. "),
    # key figures
    "kf_entries_avoided": ("New placements avoided", "Nye anbringelser undgået"),
    "kf_child_years_avoided": ("Placement child-years avoided", "Anbringelsesår undgået"),
    "kf_fewer_placed": ("Fewer placed at end of horizon", "Færre anbragte ved periodens udgang"),
    "kf_waiting_avoided": ("Child-years of waiting avoided", "Ventetid undgået (barn-år)"),
    "kf_entries_added": ("New placements added", "Flere nye anbringelser"),
    "kf_child_years_added": ("Placement child-years added", "Flere anbringelsesår"),
    "kf_more_placed": ("More placed at end of horizon", "Flere anbragte ved periodens udgang"),
    "kf_waiting_added": ("Child-years of waiting added", "Mere ventetid (barn-år)"),
    "kf_overflows_added": ("Sent on by a full step, more", "Flere sendt videre fra et fuldt trin"),
    "kf_overflows_avoided": ("Sent on by a full step, avoided", "Sendt videre fra et fuldt trin, undgået"),
    "kf_investment": ("Investment (PV)", "Investering (nutidsværdi)"),
    "kf_savings": ("Gross savings (PV)", "Bruttobesparelse (nutidsværdi)"),
    "kf_npv": ("Net present value", "Nettonutidsværdi"),
    "kf_roi": ("Net return per krone invested", "Nettoafkast pr. investeret krone"),
    "kf_payback": ("Payback year", "Hjemtjeningsår"),
    "kf_payback_one": ("Payback year", "Hjemtjeningsår"),
    "kf_p_paid_back": (
        "Probability of being paid back in {year}, the payback year above ({n} draws)",
        "Sandsynlighed for at være hjemtjent i {year}, hjemtjeningsåret ovenfor ({n} træk)",
    ),
    "kf_p_npv": ("Probability that NPV > 0", "Sandsynlighed for positiv nettonutidsværdi"),
    "kf_p_npv_draws": (
        "Probability that NPV > 0 ({n} draws)",
        "Sandsynlighed for positiv nettonutidsværdi ({n} træk)",
    ),
    "kf_placed_end": ("Placed children at end of {year}", "Anbragte børn ved udgangen af {year}"),
    "kf_entries": ("New placements {y0}-{y1}", "Nye anbringelser {y0}-{y1}"),
    "kf_total_cost": ("Total cost (PV)", "Samlede udgifter (nutidsværdi)"),
    "kf_waiting": ("Child-years waiting for a place", "Ventetid på en plads (barn-år)"),
    "kf_overflows": ("Sent on by a full step", "Sendt videre fra et fuldt trin"),
    "kf_npv_psa": (
        "Net present value, parameters uncertain (PSA)",
        "Nettonutidsværdi, usikre parametre (PSA)",
    ),
    "kf_avoided_psa": (
        "New placements avoided, parameters uncertain (PSA)",
        "Nye anbringelser undgået, usikre parametre (PSA)",
    ),
    "u_children": ("children", "børn"),
    # Entries onto a placement step: a child placed twice is two placements.
    "u_placements": ("placements", "anbringelser"),
    "u_persons": (
        "adults above the reference share, of the children leaving in the period",
        "voksne ud over referenceandelen, blandt børn der forlader trappen i perioden",
    ),
    "u_child_years": ("child-years", "barn-år"),
    "u_ratio": (
        "net {currency} back per {currency} invested",
        "{currency} ud over den investerede {currency} (1 = hver krone kommer tilbage med 1 {currency} oveni)",
    ),
    "u_year": ("calendar year", "kalenderår"),
    "u_share": ("share of draws", "andel af træk"),
    "u_money": (
        "{currency}, {price_year} prices, discounted to {start_year} at {rates}",
        "{currency}, {price_year}-priser, tilbagediskonteret til {start_year} med {rates}",
    ),
    "programme_row": ("Programme, caseworkers and extra places", "Program, sagsbehandlere og ekstra pladser"),
    "psa_header": (
        "{n} draws, mean [90 % interval over draws]",
        "{n} træk, gennemsnit [90 %-interval over træk]",
    ),
    "kf_cost_per_avoided": (
        "Investment (PV) per new placement avoided, gross",
        "Investering (nutidsværdi) pr. undgået ny anbringelse, brutto",
    ),
    "rounded_apart": (
        "The numbers in the title are rounded separately, so their difference may be off by one.",
        "Tallene i overskriften er afrundet hver for sig, så forskellen kan afvige med én.",
    ),
    "default": ("Trappesim's default", "Trappesims standardværdi"),
    "default_source": (
        "not set in the scenario files: Trappesim's default",
        "ikke sat i scenariefilerne: Trappesims standardværdi",
    ),
    "language_chosen_default": (
        "chosen for these outputs (--lang); the scenario files do not set it, and Trappesim's default is {file}",
        "valgt til disse resultater (--lang); scenariefilerne sætter det ikke, og Trappesims standard er {file}",
    ),
    "language_chosen": (
        "chosen for these outputs (--lang); the scenario files say {file}",
        "valgt til disse resultater (--lang); scenariefilerne siger {file}",
    ),
    "inputs_warned": (
        "Warnings about the scenarios' numbers ({n}): outside their plausible range, or different in the "
        "two arms. The figures were computed with them as written; check them before quoting the figures:",
        "Advarsler om scenariernes tal ({n}): uden for det plausible område eller forskellige i basis og "
        "strategi. Tallene er beregnet med dem, som de står; tjek dem, før tallene bruges (advarslerne er på "
        "engelsk):",
    ),
    "inputs_warned_title": ("Warnings about the inputs", "Advarsler om forudsætningerne"),
    "expected_note": (
        "Expected values from the analytic engine (no chance variation).",
        "Forventede værdier fra den analytiske model (uden tilfældig variation).",
    ),
    "cum_net_axis": ("Cumulative net savings, discounted", "Akkumuleret nettobesparelse, tilbagediskonteret"),
    "cum_net_expected": (
        "Cumulative net savings, discounted (expected)",
        "Akkumuleret nettobesparelse, tilbagediskonteret (forventet)",
    ),
    "waterfall_note_expected": (
        "Present values {y0}-{y1}, expected values. Long-run adult consequences after the horizon are not included. ",
        "Nutidsværdier {y0}-{y1}, forventede værdier. Langsigtede konsekvenser i voksenlivet efter perioden er "
        "ikke medregnet. ",
    ),
    "cal_observed": ("observed (± standard error)", "observeret (± standardfejl)"),
    "cal_before": ("model before", "model før"),
    "cal_after": ("model after calibration", "model efter kalibrering"),
    "cal_des": ("simulation (DES) after", "simulering (DES) efter"),
    "cal_placed": ("all placements", "alle anbringelser"),
    "cal_all": ("all steps", "alle trin"),
    "cal_title": (
        "Calibrated to {n} observations: the model is off by {rmse} on average (root mean square)",
        "Kalibreret til {n} observationer: modellen afviger {rmse} i gennemsnit (kvadratisk)",
    ),
    "kf_npv_kommune": ("Net present value for the municipality", "Nettonutidsværdi for kommunen"),
    "kf_npv_region": ("Net present value for the region", "Nettonutidsværdi for regionen"),
    "kf_npv_stat": ("Net present value for the state", "Nettonutidsværdi for staten"),
    "kf_npv_society": (
        "Net present value for the public sector as a whole (all payers)",
        "Nettonutidsværdi for den samlede offentlige sektor (alle betalere)",
    ),
    # A perspective, not a possessive: "the municipality's money" was wrong for the national
    # scenarios, which count every municipality's.
    "persp_kommune": ("municipal perspective", "kommunalt perspektiv"),
    "persp_region": ("regional perspective", "regionalt perspektiv"),
    "persp_stat": ("state perspective", "statsligt perspektiv"),
    # Not "societal" / "samfundsøkonomisk": the three public purses added up, not a socio-economic
    # analysis in Finansministeriet's sense (net tax factor, tax distortion, production effects).
    "persp_society": ("public-sector perspective", "samlet offentligt perspektiv"),
    "whose_money": ("The figures are counted from a {whose}.", "Tallene er opgjort i et {whose}."),
    "kf_adult": (
        "Adult-life costs avoided, projected beyond the horizon",
        "Undgåede udgifter i voksenlivet, fremskrevet ud over perioden",
    ),
    "group_projection": (
        "Beyond the horizon (a projection, not a budget line)",
        "Ud over perioden (en fremskrivning, ikke en budgetpost)",
    ),
    "group_payers": ("By payer, within the horizon", "Pr. betaler, inden for perioden"),
    "group_psa": (
        "With the uncertain numbers drawn (PSA): the range is 90 % of the draws, the uncertainty in the "
        "assumptions",
        "Med de usikre tal trukket (PSA): spændet er 90 % af trækkene, usikkerheden i forudsætningerne",
    ),
    "group_psa_des": (
        "With the uncertain numbers drawn (PSA), each draw one run of the simulation: the range is 90 % of "
        "the draws, the uncertainty in the assumptions and chance together",
        "Med de usikre tal trukket (PSA), hvert træk én kørsel af simuleringen: spændet er 90 % af trækkene, "
        "usikkerheden i forudsætningerne og tilfældigheden tilsammen",
    ),
    "wb_yearly_money": (
        "A year's amounts are not discounted; columns marked 'discounted' are.",
        "Beløbene for hvert år er ikke tilbagediskonteret; det er kun kolonner mærket »tilbagediskonteret«.",
    ),
    "wb_comparison_ranges": (
        "Columns (5 %) and (95 %): the range of outcomes over replications (chance).",
        "Kolonner (5 %) og (95 %): udfaldsrummet over kørslerne (tilfældighed).",
    ),
    "wb_psa": (
        "Probabilistic sensitivity analysis: means, percentiles and shares over {n} draws of the uncertain "
        "assumptions ({what}); the standard error and its 95 % interval are those of the "
        "mean over the draws (for a probability, Wilson's interval, without a standard error); the payback "
        "year's mean is that of the mean cash flow.",
        "Probabilistisk følsomhedsanalyse: gennemsnit, percentiler og andele over {n} træk af de usikre "
        "forudsætninger ({what}); standardfejlen og dens 95 %-interval er "
        "gennemsnittets over trækkene (for en sandsynlighed Wilsons interval, uden standardfejl); "
        "hjemtjeningsårets gennemsnit er den gennemsnitlige pengestrøms.",
    ),
    "morris_measures": (
        "μ* and σ are the change in {outcome} for a move across the number's whole range in the tornado "
        "(its bounds, else its 5th to 95th percentile).",
        "μ* og σ er ændringen i {outcome} ved et skridt over hele tallets interval i tornadoen "
        "(dets grænser, ellers fra 5. til 95. percentil).",
    ),
    "wb_psa_expected": ("parameter uncertainty", "usikkerhed i forudsætningerne"),
    "wb_psa_des": (
        "parameter uncertainty and chance: each draw is one run of the simulation",
        "usikkerhed i forudsætningerne og tilfældighed: hvert træk er én kørsel af simuleringen",
    ),
    "wb_psa_rows": (
        "Rows marked PSA: the spread over draws of the uncertain assumptions (5th and 95th "
        "percentiles), that is parameter uncertainty, not the range of outcomes by chance.",
        "Rækker mærket PSA: spændet over træk af de usikre forudsætninger (5. og 95. percentil), "
        "dvs. usikkerheden i forudsætningerne, ikke tilfældighedens udfaldsrum.",
    ),
    "wb_psa_rows_des": (
        "Rows marked PSA: the spread over draws of the uncertain assumptions (5th and 95th "
        "percentiles), each draw one run of the simulation: parameter uncertainty and chance together.",
        "Rækker mærket PSA: spændet over træk af de usikre forudsætninger (5. og 95. percentil), "
        "hvert træk én kørsel af simuleringen: usikkerheden i forudsætningerne og tilfældigheden tilsammen.",
    ),
    "kf_p_npv_adult": (
        "Probability that NPV > 0 with adult life ({n} draws)",
        "Sandsynlighed for positiv nettonutidsværdi med voksenlivet ({n} træk)",
    ),
    "kf_adult_outcome": ("Change in adults: {name}", "Ændring i antal voksne: {name}"),
    "kf_npv_adult": ("Net present value with adult-life costs", "Nettonutidsværdi med voksenlivets udgifter"),
    "waterfall_note_adult": (
        "Present values, {means}. Bars to the NPV: {y0}-{y1}. The dotted bar is a projection of the "
        "adult-life costs of children who left in those years, not a budget line. ",
        "Nutidsværdier, {means}. Søjlerne frem til nettonutidsværdien: {y0}-{y1}. Den prikkede søjle er "
        "en fremskrivning af voksenlivets udgifter for børn, der forlod trappen i de år, ikke en budgetpost. ",
    ),
    "wf_adult": ("Adult life (projection)", "Voksenliv (fremskrivning)"),
    "wf_npv_adult": ("NPV with adult life", "Nettonutidsværdi med voksenliv"),
    "none": ("none", "ingen"),
    # A range of payback years whose later end is beyond the horizon (some replications never pay back).
    "range_after": ("{low} to after {y1}", "{low} til efter {y1}"),
    "not_within": ("not by {y1}", "ikke inden udgangen af {y1}"),
    # Ahead for some years but behind again at the end: "not by 2043" alone would say it never was.
    "not_lasting": (
        "not for good by {y1} (in surplus {span})",
        "ikke varigt inden udgangen af {y1} (i plus {span})",
    ),
    "no_money": ("– ({nothing})", "– ({nothing})"),
    "no_money_title": (
        "Nothing invested or saved from this perspective",
        "Intet investeret eller sparet i dette perspektiv",
    ),
    "expected_values": ("expected values (analytic engine)", "forventede værdier (analytisk model)"),
    "money": ("Money", "Beløb"),
    "results_written": ("Results written to {out}/", "Resultater skrevet til {out}/"),
    "vs": ("{a} vs {b}", "{a} mod {b}"),
    "mean_over": ("mean over {n}", "gennemsnit over {n}"),
    # -- means, their precision and the range of outcomes (issue 12, part 2) --
    "exact": ("exact", "eksakt"),
    "col_mean": ("mean", "gennemsnit"),
    "col_precision": ("precision (95 %)", "præcision (95 %)"),
    "col_range": ("range of outcomes (90 %)", "udfaldsrum (90 %)"),
    "legend_exact": (
        "Means: exact, from the analytic engine, which solves this model; the simulation's own means over "
        "{n} lie within {gap} of them, at most {z} standard errors, as chance in {n} "
        "gives (a gap larger than chance gives would be warned about here).",
        "Gennemsnit: eksakte, fra den analytiske model, som løser denne model; simuleringens egne "
        "gennemsnit over {n} ligger inden for {gap} af dem, højst {z} standardfejl, som tilfældigheden i {n} "
        "giver (en afvigelse større end tilfældigheden giver, ville blive nævnt her).",
    ),
    "legend_exact_borderline": (
        "Means: exact, from the analytic engine, which solves this model; the simulation's own means over "
        "{n} lie within {gap} of them, at most {z} standard errors: more than is usual, though chance in "
        "{n} can give it now and then (p = {p} for the largest; below 0.001 it would be warned about here). "
        "More replications (--replications) tell chance from a gap.",
        "Gennemsnit: eksakte, fra den analytiske model, som løser denne model; simuleringens egne "
        "gennemsnit over {n} ligger inden for {gap} af dem, højst {z} standardfejl: mere end det sædvanlige, "
        "men tilfældigheden i {n} kan give det en gang imellem (p = {p} for den største; under 0,001 ville "
        "den blive nævnt her). Flere kørsler (--replications) skelner tilfældighed fra en afvigelse.",
    ),
    "legend_rough_range": (
        "With {n} its ends are rough: more replications (--replications) pin them down.",
        "Med {n} er dets ender usikre: flere kørsler (--replications) fastlægger dem.",
    ),
    "legend_weak_check": (
        "With {n} this check finds only large gaps.",
        "Med {n} finder dette tjek kun store afvigelser.",
    ),
    "legend_disagree": (
        "Warning: the simulation's own mean of '{metric}' is {z} standard errors from the analytic "
        "engine's, more than chance allows; the two engines should agree: please report this.",
        "Advarsel: simuleringens eget gennemsnit af '{metric}' ligger {z} standardfejl fra den analytiske "
        "models, mere end tilfældigheden tillader; de to beregninger burde stemme: meld det venligst.",
    ),
    "legend_precision": (
        "Precision: ± the half-width of the 95 % interval of each mean over {n} (chance in the "
        "simulation); the aim was ± {target} of the value (near zero: of the investment, or of 50 children).",
        "Præcision: ± den halve bredde af 95 %-intervallet for hvert gennemsnit over {n} (tilfældighed i "
        "simuleringen); målet var ± {target} af værdien (nær nul: af investeringen eller af 50 børn).",
    ),
    "legend_precision_fixed": (
        "Precision: ± the half-width of the 95 % interval of each mean over {n} (chance in the simulation).",
        "Præcision: ± den halve bredde af 95 %-intervallet for hvert gennemsnit over {n} (tilfældighed i "
        "simuleringen).",
    ),
    "legend_not_reached": (
        "Not reached after {n}: {names}; about {needed} replications would reach it "
        "(--max-replications sets the most).",
        "Ikke nået efter {n}: {names}; omkring {needed} kørsler ville nå det "
        "(--max-replications sætter det højeste antal).",
    ),
    "legend_range": (
        "Range of outcomes: where the actual figure may fall by chance (5th to 95th percentile over {n}); "
        "uncertain assumptions are not in it (see trappesim psa).",
        "Udfaldsrum: hvor det faktiske tal kan lande ved tilfældighed (5. til 95. percentil over {n}); usikre "
        "forudsætninger er ikke med (se trappesim psa).",
    ),
    # --- issue 12, faults: trappesim calibrate's terminal output and failed fits ---
    "cal_header": (
        "{name} calibrated to {file} ({n} observations, {dof} degrees of freedom)",
        "{name} kalibreret til {file} ({n} observationer, {dof} frihedsgrader)",
    ),
    "cal_header_failed": (
        "{name} fitted to {file} ({n} observations, {dof} degrees of freedom): the fit failed",
        "{name} tilpasset {file} ({n} observationer, {dof} frihedsgrader): tilpasningen mislykkedes",
    ),
    "cal_se": ("se", "standardfejl"),
    "cal_not_identified": ("NOT IDENTIFIED", "IKKE IDENTIFICERET"),
    "cal_why_no_effect": (
        "the observed numbers do not depend on it",
        "de observerede tal afhænger ikke af den",
    ),
    "cal_why_extreme": (
        "ran to an extreme value: the data do not hold it (fix it, or give data that do)",
        "løb mod en ekstrem værdi: data kan ikke bære den (fastlæg den, eller giv data, der kan)",
    ),
    "cal_why_wide": (
        "the data hardly pin it down (standard error over 50 %)",
        "data fastlægger den næppe (standardfejl over 50 %)",
    ),
    "cal_why_together": (
        "moves together with another fitted key: the data tell only their combination",
        "bevæger sig sammen med en anden tilpasset nøgle: data viser kun deres kombination",
    ),
    "cal_banded": ("(one factor on every age band)", "(én faktor på alle aldersgrupper)"),
    "cal_fit_line": (
        "Fit: chi-square {chi2} on {dof} degrees of freedom; root mean square error {rmse}; worst {row} {error}",
        "Tilpasning: chi-i-anden {chi2} med {dof} frihedsgrader; kvadratisk gennemsnitlig fejl {rmse}; "
        "størst {row} {error}",
    ),
    "cal_des_line": (
        "DES check ({n}): largest gap to the analytic fit {z} standard errors (largest relative gap {gap}).",
        "Kontrol med simulering (DES, {n}): største afvigelse fra den analytiske tilpasning {z} standardfejl "
        "(største relative afvigelse {gap}).",
    ),
    "cal_des_few": (
        "With fewer than 10 runs the standard error is itself rough: only large gaps show.",
        "Med færre end 10 kørsler er standardfejlen selv usikker: kun store afvigelser ses.",
    ),
    "cal_des_one": (
        "DES check (1 run): largest relative gap to the analytic fit {gap}; one run has no standard "
        "error, so this is no test of agreement (use --des-replications 10 or more).",
        "Kontrol med simulering (DES, 1 kørsel): største relative afvigelse fra den analytiske tilpasning "
        "{gap}; én kørsel har ingen standardfejl, så det er ingen test af overensstemmelse (brug "
        "--des-replications 10 eller flere).",
    ),
    "cal_left_header": ("Left out {n} row(s) of {file}:", "Udeladt {n} række(r) af {file}:"),
    "cal_left_row": ("row {row} ({year} {measure} {step})", "række {row} ({year} {measure} {step})"),
    "cal_left_measure": ("a measure the model does not give", "et mål, modellen ikke giver"),
    "cal_left_ages": (
        "ages {ages}, the scenario models {model}",
        "alder {ages}, scenariet modellerer {model}",
    ),
    "cal_left_years": (
        "outside the scenario's years {first}-{last}",
        "uden for scenariets år {first}-{last}",
    ),
    "cal_written": ("Calibrated scenario written to {target}", "Kalibreret scenarie skrevet til {target}"),
    "cal_failed": (
        "the fit failed, so nothing was written (no calibrated scenario, no results folder): {why}",
        "tilpasningen mislykkedes, så intet blev skrevet (intet kalibreret scenarie, ingen resultatmappe): {why}",
    ),
    "cal_fail_converge": (
        "the optimiser did not converge ({message})",
        "optimeringen konvergerede ikke ({message})",
    ),
    "cal_fail_extreme": (
        "{keys} ran to an extreme value (below a hundredth or above a hundred times its start): the model "
        "cannot match the data with it",
        "{keys} løb mod en ekstrem værdi (under en hundrededel eller over hundrede gange startværdien): "
        "modellen kan ikke ramme data med den",
    ),
    "cal_fail_chi2": (
        "the model misses the observations by {rms} standard errors on average (chi-square {chi2} on {dof} "
        "degrees of freedom; more than {limit} per degree of freedom is refused): check the data file (its "
        "units, thousands separators and ages) and the keys fitted; if its numbers are right but less "
        "certain than their sd or confidence say, give larger standard errors in its sd column",
        "modellen rammer observationerne {rms} standardfejl ved siden af i gennemsnit (chi-i-anden {chi2} med "
        "{dof} frihedsgrader; over {limit} pr. frihedsgrad afvises): kontrollér datafilen (enheder, "
        "tusindtalsseparatorer og aldre) og de tilpassede nøgler; er tallene rigtige, men mere usikre end "
        "deres sd eller confidence siger, så angiv større standardfejl i kolonnen sd",
    ),
    "cal_fail_none": (
        "the data pin down none of the keys fitted: there is nothing to write",
        "data fastlægger ingen af de tilpassede nøgler: der er intet at skrive",
    ),
    # --- end of issue 12, faults ---
}


def t(key: str, lang: Lang, **values: object) -> str:
    """The text ``key`` in ``lang``, with ``{placeholders}`` filled."""
    en, da = TEXT[key]
    return (da if lang == "da" else en).format(**values)


def join(words: list[str], lang: Lang) -> str:
    """``a, b and c`` (Danish: ``a, b og c``)."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + (" og " if lang == "da" else " and ") + words[-1]


def runs(n: int, lang: Lang) -> str:
    """``"1 replication"``, ``"3 replications"``; ``"1 kørsel"``, ``"3 kørsler"``."""
    if lang == "da":
        return f"{n} kørsel" if n == 1 else f"{number(n, lang)} kørsler"
    return f"{n} replication" if n == 1 else f"{number(n, lang)} replications"


def resolve(lang: str | None, scenario) -> Lang:
    """The language asked for, else the scenario's (Danish by default)."""
    chosen = lang or getattr(scenario, "language", "da")
    if chosen not in LANGUAGES:
        raise OptionError(f"language must be one of {', '.join(LANGUAGES)}, not {chosen!r}")
    return chosen  # type: ignore[return-value]


def number(x: float, lang: Lang, decimals: int = 0, signed: bool = False) -> str:
    """``1234567.8`` as ``"1.234.568"`` (da) or ``"1,234,568"`` (en); ``nan`` as an en dash.

    ``signed`` puts a plus before a positive number (for a change).
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    rounded = round(x, decimals)
    if rounded == 0:
        x = rounded = 0.0  # no "-0" for a small negative number
    text = _grouped(x, lang, decimals)
    return "+" + text if signed and rounded > 0 else text


# Python's "," and "." as the CLDR group and decimal signs of each language
# (Danish "." and ","; English as Python); both minus signs are "-".
_SEPARATORS = {"da": str.maketrans({",": ".", ".": ","}), "en": str.maketrans({})}
_QUANTUM = [decimal_module.Decimal(1).scaleb(-d) for d in range(10)]


def _grouped(x: float, lang: Lang, decimals: int) -> str:
    """Babel's pattern ``#,##0.00`` (as many zeros as ``decimals``) in ``lang``, without its per-call lookups.

    The same steps as :meth:`babel.numbers.NumberPattern.apply` (the
    number's ``str`` as a Decimal, rounded half to even at the context's
    precision, grouped by threes), about twenty times faster; the tests hold
    it to babel's output. Anything else goes to babel.
    """
    value = decimal_module.Decimal(str(x))
    if not value.is_finite() or not 0 <= decimals < len(_QUANTUM):
        return _pattern("#,##0" + ("." + "0" * decimals if decimals > 0 else "")).apply(x, _locale(lang))
    text = f"{abs(value).normalize().quantize(_QUANTUM[decimals]):,f}".translate(_SEPARATORS[lang])
    return "-" + text if value.is_signed() else text


@functools.cache
def _pattern(pattern: str) -> NumberPattern:
    # babel.numbers.format_decimal without parsing the pattern again at every number.
    return parse_pattern(pattern)


def decimal(x: float, lang: Lang) -> str:
    """A number with as many decimals as it needs (up to six): ``0.35`` as ``"0,35"`` (da)."""
    return _pattern("#,##0.######").apply(x, _locale(lang))


def percent(share: float, lang: Lang, decimals: int = 0) -> str:
    """A share as a percentage: ``0.035`` as ``"3,5 %"`` (da) or ``"3.5 %"`` (en).

    Both languages put a (non-breaking) space before the sign, as Danish and
    SI usage do.
    """
    if share is None or math.isnan(share):
        return "–"
    return f"{number(100 * share, lang, decimals)}{NBSP}%"


def shows_as_zero_percent(share: float, lang: Lang) -> bool:
    """Whether a positive share is printed as ``"0 %"`` (a break-even effect then needs other words:
    "from 0 %" of an effect reads as "without it").

    >>> shows_as_zero_percent(0.004, "en"), shows_as_zero_percent(0.006, "en"), shows_as_zero_percent(0.0, "en")
    (True, False, False)
    """
    return math.isfinite(share) and share > 0 and percent(share, lang) == percent(0.0, lang)


def span(low: str, high: str, lang: Lang) -> str:
    """A range of two printed values, joined by a word: a dash beside a minus sign reads as one.

    >>> span("-6,84", "-2,10 mia. kr.", "da"), span("12,157", "12,621", "en")
    ('-6,84 til -2,10 mia. kr.', '12,157 to 12,621')
    """
    return f"{low} {'til' if lang == 'da' else 'to'} {high}"


def probability(share: float, lang: Lang) -> str:
    """A probability as a percentage that never rounds to a certainty it is not.

    Whole percent where that is honest; 0.996 is ``"99,6 %"``, not ``"100 %"``,
    and 0.9996 is ``"> 99,9 %"``: a reader takes "100 %" for "every draw";
    0.497 is ``"49,7 %"``, not ``"50 %"``, beside a chart that says from which
    year paying back is more likely than not.

    Examples
    --------
    >>> probability(0.42, "en"), probability(0.996, "en"), probability(1.0, "en")  # with non-breaking spaces
    ('42\xa0%', '99.6\xa0%', '100\xa0%')
    >>> probability(0.9996, "en"), probability(0.0004, "da")
    ('>\xa099.9\xa0%', '<\xa00,1\xa0%')
    >>> probability(0.497, "en"), probability(0.5, "en")  # a chart says "more likely than not" above a half
    ('49.7\xa0%', '50\xa0%')
    """
    if share is None or math.isnan(share):
        return "–"
    if 0.495 <= share < 0.505 and share != 0.5:  # which side of a half it is on: "more likely than not"
        if percent(share, lang, 1) == percent(0.5, lang, 1):
            return f"{'>' if share > 0.5 else '<'}{NBSP}{percent(0.5, lang)}"
        return percent(share, lang, 1)
    if 0.005 <= share < 0.995 or share in (0.0, 1.0):
        return percent(share, lang)
    if 0.001 <= share <= 0.999:
        return percent(share, lang, 1)
    return f"{'>' if share > 0.5 else '<'}{NBSP}{percent(0.999 if share > 0.5 else 0.001, lang, 1)}"


@functools.cache
def currency_symbol(currency: str, lang: Lang) -> str:
    """``"kr."`` for DKK in Danish; the ISO code otherwise."""
    return get_currency_symbol(currency, locale=_locale(lang)) if lang == "da" else currency


def money(
    x: float, lang: Lang, currency: str = "DKK", decimals: int | None = None, scale: str = "auto"
) -> str:
    """An amount with its currency, in millions or billions when large.

    Parameters
    ----------
    x : float
        Amount in the currency's units.
    scale : {"auto", "units", "m", "bn"}
        ``auto`` uses billions from 1e9, millions from 1e6.

    Examples
    --------
    Danish ``"1.234.567 kr."``, ``"12,3 mio. kr."``, ``"1,2 mia. kr."``;
    English ``"DKK 1,234,567"``, ``"DKK 12.3 m"``, ``"DKK 1.2 bn"``.
    """
    if x is None or math.isnan(x):
        return "–"
    if scale == "auto":
        scale = "bn" if abs(x) >= 1e9 else "m" if abs(x) >= 1e6 else "units"
    div = _SCALES[scale]
    # Billions keep two decimals: "7,56 mia. kr." says as much as "7.561 mio. kr.".
    digits = decimals if decimals is not None else _SCALE_DECIMALS[scale]
    n = number(x / div, lang, digits)
    sym = currency_symbol(currency, lang)
    if lang == "da":
        return f"{n}{NBSP}{_SCALE_WORDS_DA[scale]}{sym}"
    return f"{sym}{NBSP}{n}{_SCALE_WORDS_EN[scale]}"


# money()'s tables, made once (the what-if page writes some thirty amounts at every lever move).
_SCALES = {"units": 1.0, "m": 1e6, "bn": 1e9}
_SCALE_DECIMALS = {"units": 0, "m": 1, "bn": 2}
_SCALE_WORDS_DA = {"units": "", "m": f"mio.{NBSP}", "bn": f"mia.{NBSP}"}
_SCALE_WORDS_EN = {"units": "", "m": f"{NBSP}m", "bn": f"{NBSP}bn"}


def money_unit(currency: str, lang: Lang, scale: str = "m") -> str:
    """Column heading unit: ``"mio. kr."`` or ``"DKK m"``."""
    sym = currency_symbol(currency, lang)
    if lang == "da":
        return {"units": sym, "m": f"mio. {sym}", "bn": f"mia. {sym}"}[scale]
    return {"units": sym, "m": f"{sym} m", "bn": f"{sym} bn"}[scale]


def discounting(scenario, lang: Lang) -> str:
    """The discount rates in words: ``"3,5 % år 0-35, 2,5 % år 36-70, 1,5 % fra år 71"``."""
    periods = sorted(scenario.discounting.periods, key=lambda p: p.from_year)
    parts = []
    for p, nxt in zip(periods, [*periods[1:], None]):
        if lang == "da":
            span = f"år {p.from_year}-{nxt.from_year - 1}" if nxt else f"fra år {p.from_year}"
        else:
            span = f"years {p.from_year}-{nxt.from_year - 1}" if nxt else f"from year {p.from_year}"
        parts.append(f"{percent(p.rate, lang, 1)} {span}")
    return ", ".join(parts)


def money_note(scenario, lang: Lang) -> str:
    """Footnote for every money figure: currency, price year, discount rates (and their source)."""
    s = scenario
    if lang == "da":
        return (
            f"Beløb i {currency_symbol(s.currency, lang)}, {s.price_year}-priser; tilbagediskonteret til "
            f"{s.discount_year} med en realrente på {discounting(s, lang)}{rate_source(s)}."
        )
    return (
        f"{s.currency}, {s.price_year} prices; discounted to {s.discount_year} at a real rate of "
        f"{discounting(s, lang)}{rate_source(s)}."
    )


def rate_source(scenario) -> str:
    """`` (Finansministeriet 2021)`` after the discount rates, or nothing for rates without a source."""
    source = scenario.discounting.source
    return f" ({source})" if source else ""


def in_sentence(text: str) -> str:
    """``text`` where a sentence goes on: its first letter in lower case, unless it starts an acronym
    ("Net present value" as "net present value", "NPV" as it is)."""
    return text[:1].lower() + text[1:] if not text[:2].isupper() else text


def title_of(scenario, lang: Lang) -> str:
    """A scenario's title in ``lang`` (``title_en`` in English where given), else its name."""
    if lang == "en" and scenario.title_en:
        return scenario.title_en
    return scenario.title or scenario.name


def whose_money(perspective: str, lang: Lang) -> str:
    """ "The figures are counted from a municipal perspective.": whose money a figure counts."""
    return t("whose_money", lang, whose=t("persp_" + perspective, lang))


def a_or_an(word: str) -> str:
    """``word`` after its English article: ``"a Result"``, ``"an int"``."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def closed_name(lang: Lang) -> str:
    """The destination "closed" in words, as the report, workbook and what-if page all say it."""
    return "sag afsluttet" if lang == "da" else "case closed"


def step_name(scenario, step: str, lang: Lang) -> str:
    """A step's name from the scenario file, in ``lang``."""
    st = scenario.steps[step]
    return st.name_da if lang == "da" else st.name_en


def observed_steps(scenario, spec: str, lang: Lang) -> str:
    """The steps a row of observed data counts, in words: ``placed``, ``all``, a step or ``a+b``."""
    if spec == "placed":
        return t("cal_placed", lang)
    if spec == "all":
        return t("cal_all", lang)
    return " + ".join(step_name(scenario, s, lang) for s in spec.split("+"))


def engine_name(engine: str, lang: Lang) -> str:
    """``des`` or ``expected`` in words."""
    names = {
        "des": ("discrete-event simulation", "diskret hændelsessimulering"),
        "expected": ("analytic expected values", "analytiske forventede værdier"),
    }
    en, da = names.get(engine, (engine, engine))
    return da if lang == "da" else en


# Column headings of the tables (the workbook and the HTML report); CSV files
# keep the English keys on the left.
COLUMNS: dict[str, tuple[str, str]] = {
    "arm": ("Arm", "Scenarie"),
    "year": ("Year", "År"),
    "step": ("Step id", "Trin-id"),
    "step_name": ("Step", "Trin"),
    "placement": ("Placement", "Anbringelse"),
    "stock_end": ("Children at 31 Dec", "Børn pr. 31. dec."),
    "child_years": ("Child-years", "Barn-år"),
    "new_cases": ("New cases", "Nye sager"),
    "moves_in": ("Moved in", "Flyttet ind"),
    "moves_up": ("Moved up", "Flyttet op"),
    "moves_down": ("Moved down", "Flyttet ned"),
    "closed": ("Cases closed", "Sager afsluttet"),
    "aged_out": ("Aged out", "Ophørt pga. alder"),
    "placement_entries": ("New placements", "Nye anbringelser"),
    "entries": ("Entries", "Tilgang"),
    "exits": ("Exits", "Afgang"),
    "reviews": ("Reviews held", "Opfølgninger"),
    "waiting_end": ("Waiting at 31 Dec", "På venteliste pr. 31. dec."),
    "waiting_years": ("Child-years waiting", "Barn-år på venteliste"),
    "waits_started": ("Waits started", "Ventetider startet"),
    "overflows": ("Sent on (step full)", "Sendt videre (trin fuldt)"),
    "wait_mean": ("Mean wait (years)", "Gns. ventetid (år)"),
    "wait_p90": ("90th percentile wait (years)", "90. percentil af ventetiden (år)"),
    "places": ("Places", "Pladser"),
    "utilisation": ("Places in use", "Pladser i brug"),
    "cost": ("Cost", "Udgift"),
    "cost_discounted": ("Cost, discounted", "Udgift, tilbagediskonteret"),
    "placement_entries_avoided": ("New placements avoided", "Nye anbringelser undgået"),
    "placement_child_years_avoided": ("Placement child-years avoided", "Anbringelsesår undgået"),
    "placed_at_year_end_avoided": ("Fewer placed at 31 Dec", "Færre anbragte pr. 31. dec."),
    "waiting_years_avoided": ("Child-years waiting avoided", "Barn-år på venteliste undgået"),
    "overflows_avoided": ("Sent on, avoided", "Sendt videre, undgået"),
    "investment": ("Investment", "Investering"),
    "gross_savings": ("Gross savings", "Bruttobesparelse"),
    "net_savings": ("Net savings", "Nettobesparelse"),
    "cum_net_savings_discounted": (
        "Cumulative net savings, discounted",
        "Akkumuleret nettobesparelse, tilbagediskonteret",
    ),
    "discount_factor": ("Discount factor", "Diskonteringsfaktor"),
    "metric": ("Key figure", "Nøgletal"),
    "mean": ("Mean", "Gennemsnit"),
    "median": ("Median", "Median"),
    "p5": ("5th percentile", "5. percentil"),
    "p95": ("95th percentile", "95. percentil"),
    "precision": ("Precision of the mean (95 %)", "Gennemsnittets præcision (95 %)"),
    "precision_share": ("Precision of the share (95 %, Wilson)", "Andelens præcision (95 %, Wilson)"),
    "range": ("Range of outcomes (90 %)", "Udfaldsrum (90 %)"),
    "range_low": ("Range of outcomes, from (5 %)", "Udfaldsrum, fra (5 %)"),
    "range_high": ("Range of outcomes, to (95 %)", "Udfaldsrum, til (95 %)"),
    "unit": ("Unit", "Enhed"),
    "mc_se": ("Standard error of the mean", "Gennemsnittets standardfejl"),
    "mc_low": ("Mean, 95 % interval from", "Gennemsnit, 95 %-interval fra"),
    "mc_high": ("Mean, 95 % interval to", "Gennemsnit, 95 %-interval til"),
    "probability_break_even": ("Probability of having paid back", "Sandsynlighed for at være hjemtjent"),
    "key": ("Key in the scenario file", "Nøgle i scenariefilen"),
    "description": ("Input", "Forudsætning"),
    "baseline": ("Baseline", "Basis"),
    "strategy": ("Strategy", "Strategi"),
    "source": ("Source or note", "Kilde eller note"),
    "parameter": ("Uncertain number", "Usikkert tal"),
    "low": ("Low value", "Lav værdi"),
    "high": ("High value", "Høj værdi"),
    "outcome_low": ("Outcome at low", "Resultat ved lav"),
    "outcome_high": ("Outcome at high", "Resultat ved høj"),
    "swing": ("Swing", "Udsving"),
}


def column(name: str, lang: Lang, scenario=None) -> str:
    """A table heading: ``savings_foster`` becomes "Savings: Foster family" / "Besparelse: Anbringelse i plejefamilie"."""
    base, suffix = name, ""
    for end, words in (
        ("_p5", (" (5 %)", " (5 %)")),
        ("_p95", (" (95 %)", " (95 %)")),
        ("_mc_se", (" (standard error of the mean)", " (gennemsnittets standardfejl)")),
    ):
        if name.endswith(end) and name[: -len(end)] in COLUMNS:
            base, suffix = name[: -len(end)], words[lang == "da"]
    if base in COLUMNS:
        en, da = COLUMNS[base]
        return (da if lang == "da" else en) + suffix
    if name.startswith("savings_") and scenario is not None and name[8:] in scenario.steps:
        return t("savings_on", lang, step=step_name(scenario, name[8:], lang))
    return name


# --- Issue 12, words: every input in words, with its value in words and units ------------
# The assumptions table of the report and the workbook names each key of a scenario
# file in words (:func:`describe`) and shows its value in the language's number
# format with its unit (:func:`describe_value`): "470.000 kr.", "3,5 %",
# "0,2 pr. barn-år", "blanding: 30 % korte ophold på 0,5 år, ...".

_FIELDS: dict[str, tuple[str, str]] = {
    "cost_per_year": ("cost per child-year", "udgift pr. barn-år"),
    "entry_cost": ("one-off cost per entry", "engangsudgift pr. indgang"),
    "duration": ("length of a stay", "varighed af et ophold"),
    "children": ("children at the start", "børn ved start"),
    "places": ("places", "pladser"),
    "name_da": ("name (Danish)", "navn (dansk)"),
    "name_en": ("name (English)", "navn (engelsk)"),
    "placement": ("is a placement", "er en anbringelse"),
    "price_year": ("price year of its costs", "prisår for dens udgifter"),
    "kommune": ("share paid by the municipality", "andel betalt af kommunen"),
    "region": ("share paid by the region", "andel betalt af regionen"),
    "stat": ("share paid by the state", "andel betalt af staten"),
    "overflow_to": ("sent on to, when full", "sendes videre til, når trinnet er fuldt"),
    "max_wait_years": ("longest wait before being sent on", "længste ventetid, før barnet sendes videre"),
    "wait_on": ("waits for a place on", "venter på en plads på"),
    "queue": ("order of the queue", "rækkefølge i køen"),
    "interval_months": ("a case review every", "opfølgningsinterval"),
}
_PAYER_OF: dict[str, tuple[str, str]] = {
    "intervention": ("Strategy", "Strategien"),
    "casework": ("Caseworkers", "Sagsbehandlere"),
    "adult": ("Adult life", "Voksenliv"),
}
_TOP: dict[str, tuple[str, str]] = {
    "name": ("Scenario's short name", "Scenariets korte navn"),
    "title": ("Title", "Titel"),
    "title_en": ("Title in English", "Titel på engelsk"),
    "description": ("Description", "Beskrivelse"),
    "intervention.cost_per_year": ("Programme cost per year", "Strategiens udgift pr. år"),
    "intervention.one_off_cost": ("Programme one-off cost", "Strategiens engangsudgift"),
    "intervention.cost_per_child_reached": ("Cost per child reached", "Udgift pr. barn nået"),
    "intervention.reached_steps": (
        "Steps where the cost per child reached is counted",
        "Trin, hvor udgiften pr. barn nået tælles",
    ),
    "intervention.start_year": ("Strategy starts", "Strategien starter"),
    "intervention.ramp_up_years": ("Years to full effect", "År til fuld effekt"),
    "intervention.extra_caseworkers": ("Extra caseworkers", "Ekstra sagsbehandlere"),
    "intervention.end_year": ("Programme's last year", "Strategiens sidste år"),
    "intervention.fading.half_life_years": ("Effect's half-life", "Effektens halveringstid"),
    "intervention.fading.after_year": ("Effect fades after", "Effekten aftager efter"),
    "intervention.entry.extra_entries_share": ("Extra new cases (share)", "Ekstra nye sager (andel)"),
    "intervention.entry.extra_entries_per_year": ("Extra new cases a year", "Ekstra nye sager pr. år"),
    "intervention.entry.entry_step_shares": (
        "With the strategy: share of new cases by step",
        "Med strategien: andel nye sager pr. trin",
    ),
    "intervention.name": ("Strategy", "Strategi"),
    "population.children": ("Children in the area", "Børn i området"),
    "population.age_bands": ("Age bands (lowest age of each)", "Aldersgrupper (laveste alder i hver)"),
    "population.entries_per_year": ("New cases a year", "Nye sager pr. år"),
    "population.entries_per_1000_children": (
        "New cases a year per 1,000 children",
        "Nye sager pr. år pr. 1.000 børn",
    ),
    "population.entry_age_shares": ("Share of new cases by age", "Andel nye sager pr. aldersgruppe"),
    "population.entry_step_shares": ("Share of new cases by step", "Andel nye sager pr. trin"),
    "population.leaving_age": ("Age at which children leave", "Alder ved udgang"),
    "population.aftercare_until_age": ("Aftercare until age", "Efterværn indtil alderen"),
    "population.aftercare_steps": ("Steps with aftercare", "Trin med efterværn"),
    "start_year": ("First year", "Første år"),
    "horizon_years": ("Years simulated", "År simuleret"),
    "price_year": ("Price year", "Prisår"),
    "currency": ("Currency", "Valuta"),
    "language": ("Language of the outputs", "Sprog i resultaterne"),
    "intervention.reached_entry_steps": (
        "Effect reaches children who entered on",
        "Effekten når børn, der kom ind på",
    ),
    "intervention.reached_age_bands": ("Effect reaches ages", "Effekten når aldersgrupperne"),
    "intervention.price_year": ("Price year of the strategy's costs", "Prisår for strategiens udgifter"),
    "casework.caseworkers": ("Caseworkers", "Sagsbehandlere"),
    "casework.cost_per_caseworker": ("Cost per caseworker a year", "Udgift pr. sagsbehandler pr. år"),
    "casework.cases": ("Cases the caseworkers carry", "Sager, sagsbehandlerne har"),
    "casework.reference_caseload": (
        "Caseload at which the review intervals hold",
        "Sagstal, som opfølgningsintervallerne gælder for",
    ),
    "casework.price_year": ("Price year of caseworkers' costs", "Prisår for sagsbehandlernes udgifter"),
    "adult.years": ("Adult years counted", "Voksenår talt med"),
    "adult.from_age": ("Adult life counted from age", "Voksenliv talt fra alderen"),
    "adult.price_year": ("Price year of adult-life costs", "Prisår for voksenlivets udgifter"),
    "discounting.to_year": ("Discounted to year", "Tilbagediskonteret til år"),
}

LABEL_KEYS = (
    "name",
    "title",
    "title_en",
    "description",
    "currency",
    "language",
    "name_da",
    "name_en",
    "placement",
)
"""Last parts of keys that name or label something: a table's source does not apply to them."""


def _words(pair: tuple[str, str], lang: Lang) -> str:
    return pair[lang == "da"]


def _period(key: str) -> int | None:
    """The index of ``discounting.periods[i]`` in a key, or None."""
    found = re.match(r"discounting\.periods\[(\d+)\]", key)
    return int(found.group(1)) if found else None


def describe(scenario, key: str, lang: Lang) -> str:
    """A key path in words: ``transitions.home.foster`` as "Rate: Home-based measures → Foster family".

    Every key a scenario file can hold has words; an unknown key (a newer
    file) falls back to the key itself.
    """
    if key in _TOP:
        return _words(_TOP[key], lang)
    da = lang == "da"
    parts = key.split(".")
    steps = getattr(scenario, "steps", {})

    def name(step: str) -> str:
        if step in steps:
            return step_name(scenario, step, lang)
        return closed_name(lang) if step == "closed" else step

    def field(f: str) -> str:
        return _words(_FIELDS.get(f, (f.replace("_", " "),) * 2), lang)

    period = _period(key)
    if period is not None:
        what = parts[-1]
        word = {"from_year": ("from year", "fra år"), "rate": ("real rate", "realrente")}.get(what)
        if word:
            return f"{'Diskontering, periode' if da else 'Discounting, period'} {period + 1}: {_words(word, lang)}"
    if parts[0] == "steps" and len(parts) >= 3:
        if parts[2] == "review" and len(parts) == 5 and parts[3] == "moves":
            word = (
                "sandsynlighed pr. opfølgning for at gå til" if da else "probability per review of moving to"
            )
            return f"{name(parts[1])}: {word} {name(parts[4])}"
        return f"{name(parts[1])}: {field(parts[-1])}"
    if parts[0] == "transitions" and len(parts) >= 3:
        band = f" ({'alder' if da else 'ages'} {parts[3]})" if len(parts) > 3 else ""
        word = "Overgangsrate" if da else "Rate"
        return f"{word}: {name(parts[1])} → {name(parts[2])}{band}"
    if parts[:2] == ["intervention", "hazard_ratios"] and len(parts) >= 4:
        word = "Effekt (hazard ratio)" if da else "Effect (hazard ratio)"
        return f"{word}: {name(parts[2])} → {name(parts[3])}"
    if parts[:2] == ["intervention", "extra_places"] and len(parts) == 4:
        word = "Ekstra pladser" if da else "Extra places"
        if parts[3] == "cost_per_place_per_year":
            return f"{word}, {name(parts[2])}: {'udgift pr. plads pr. år' if da else 'cost per place a year'}"
        return f"{word}: {name(parts[2])}"
    if parts[-2:-1] == ["entry_step_shares"]:
        word = "Andel nye sager, der starter på" if da else "Share of new cases starting on"
        if parts[0] == "intervention":
            word = ("Med strategien: a" if da else "With the strategy: s") + word[1:]
        return f"{word} {name(parts[-1])}"
    if parts[:2] == ["population", "initial_stock"] and len(parts) >= 4:
        if parts[3] == "age_shares" and len(parts) == 5:
            word = f"andel i alderen {parts[4]} ved start" if da else f"share aged {parts[4]} at the start"
            return f"{name(parts[2])}: {word}"
        if parts[3] == "age_shares":
            return f"{name(parts[2])}: {'andel pr. aldersgruppe ved start' if da else 'shares by age at the start'}"
        return f"{name(parts[2])}: {field(parts[3])}"
    if parts[:2] == ["population", "entry_age_shares"] and len(parts) == 3:
        return f"Andel nye sager i alderen {parts[2]}" if da else f"Share of new cases aged {parts[2]}"
    if parts[0] == "adult" and len(parts) >= 3 and parts[1] == "cost_per_year":
        band = (
            f" ({'først nået i alderen' if da else 'first reached at ages'} {parts[3]})"
            if len(parts) > 3
            else ""
        )
        word = "Udgift pr. voksenår, højeste trin" if da else "Adult-life cost a year, highest step"
        return f"{word}: {name(parts[2])}{band}"
    if parts[:2] == ["adult", "outcomes"] and len(parts) >= 4:
        outcome = scenario.adult.outcomes.get(parts[2]) if getattr(scenario, "adult", None) else None
        what = (outcome.name_da if da else outcome.name_en) if outcome else parts[2].replace("_", " ")
        what = what[:1].upper() + what[1:]
        if parts[3] == "share" and len(parts) > 4:
            return f"{what}: {'andel, højeste trin' if da else 'share, highest step'} {name(parts[4])}"
        words = {
            "reference_share": ("share among everyone else", "andel blandt alle andre"),
            "cost_per_year": (
                "cost per person-year above the reference",
                "udgift pr. personår ud over referencen",
            ),
        }
        return f"{what}: {_words(words.get(parts[3], (field(parts[3]),) * 2), lang)}"
    if parts[0] == "prices" and len(parts) == 3 and parts[1] == "index":
        return f"{'Prisindeks' if da else 'Price index'} {parts[2]}"
    if len(parts) >= 3 and parts[-2] == "payers":
        owner = _PAYER_OF.get(parts[0])
        where = name(parts[1]) if parts[0] == "steps" else (_words(owner, lang) if owner else parts[0])
        return f"{where}: {field(parts[-1])}"
    return key


_MONEY_FIELDS = (
    "cost_per_year",
    "entry_cost",
    "one_off_cost",
    "cost_per_child_reached",
    "cost_per_caseworker",
    "cost_per_place_per_year",
)
_SHARE_FIELDS = ("short_share", "extra_entries_share", "reference_share")
_CALENDAR = ("start_year", "end_year", "after_year", "to_year", "price_year")
_YEARS = ("horizon_years", "ramp_up_years", "half_life_years", "max_wait_years", "years")
_AGES = ("leaving_age", "aftercare_until_age", "from_age")
_STEP_LISTS = ("reached_steps", "aftercare_steps", "reached_entry_steps")
_QUEUES = {
    "fifo": ("first come, first served", "først til mølle"),
    "oldest_first": ("oldest first", "ældste først"),
    "youngest_first": ("youngest first", "yngste først"),
}
_DISTS = {
    "exponential": ("exponential", "eksponentiel"),
    "mixture": ("mixture", "blanding"),
    "weibull": ("Weibull", "Weibull"),
    "lognormal": ("lognormal", "lognormal"),
    "gamma": ("gamma", "gamma"),
    "beta": ("beta", "beta"),
    "normal": ("normal", "normal"),
    "uniform": ("uniform", "ligefordeling"),
    "triangular": ("triangular", "trekantfordeling"),
    "dirichlet": ("Dirichlet", "Dirichlet"),
}
_PARAMS = {
    "mean": ("mean", "middelværdi"),
    "sd": ("sd", "spredning"),
    "median": ("median", "median"),
    "p95": ("95th percentile", "95. percentil"),
    "low": ("low", "lav"),
    "mode": ("most likely", "mest sandsynlig"),
    "high": ("high", "høj"),
    "concentration": ("concentration", "koncentration"),
    "bounds": ("bounds for the tornado", "grænser i tornado"),
}


def value_kind(key: str) -> str:
    """What an input's number is, from its key: ``money``, ``share``, ``rate``, ``ratio``,
    ``calendar``, ``years``, ``age``, ``months`` or ``number``."""
    parts = key.split(".")
    last = parts[-1]
    if _period(key) is not None:
        return "share" if last == "rate" else "number"
    if last in _MONEY_FIELDS or parts[:2] == ["adult", "cost_per_year"]:
        return "money"
    share_tables = ("entry_age_shares", "entry_step_shares", "age_shares", "payers", "share")
    if last in _SHARE_FIELDS or any(p in share_tables for p in parts[:-1]) or last in share_tables:
        return "share"
    if len(parts) >= 2 and parts[-2] == "moves":
        return "share"
    if parts[0] == "transitions":
        return "rate"
    if parts[:2] == ["intervention", "hazard_ratios"]:
        return "ratio"
    if last in _CALENDAR:
        return "calendar"
    if last in _YEARS:
        return "years"
    if last in _AGES:
        return "age"
    if last == "interval_months":
        return "months"
    return "number"


def input_unit(key: str, lang: Lang, currency: str = "DKK") -> str:
    """The unit of an input's number, for a table that shows the number bare (the workbook)."""
    da = lang == "da"
    return {
        "money": currency_symbol(currency, lang),
        "share": "andel (0,5 = 50 %)" if da else "share (0.5 = 50 %)",
        "rate": "pr. barn-år" if da else "per child-year",
        "ratio": "forhold" if da else "ratio",
        "calendar": "kalenderår" if da else "calendar year",
        "years": "år" if da else "years",
        "age": "år" if da else "years",
        "months": "måneder" if da else "months",
    }.get(value_kind(key), "")


def _number_in(x: float, kind: str, lang: Lang, currency: str) -> str:
    """One number of an input with its unit."""
    if isinstance(x, float) and math.isinf(x):
        return "uendelig" if lang == "da" else "infinite"
    if kind == "money":
        return money(float(x), lang, currency, scale="units")
    if kind == "share":
        return f"{decimal(round(100 * float(x), 6), lang)}{NBSP}%"
    if kind == "calendar":
        return f"{int(x)}"
    shown = decimal(round(float(x), 6), lang)
    if kind == "rate":
        return f"{shown} {'pr. barn-år' if lang == 'da' else 'per child-year'}"
    if kind in ("years", "age"):
        one = float(x) == 1
        return f"{shown} år" if lang == "da" else f"{shown} {'year' if one else 'years'}"
    if kind == "months":
        one = float(x) == 1
        return (
            f"{shown} {'måned' if one else 'måneder'}"
            if lang == "da"
            else f"{shown} month{'' if one else 's'}"
        )
    return shown


def describe_value(scenario, key: str, value, lang: Lang) -> str:
    """An input's value in words and the language's number format, with its unit.

    ``470000`` on a cost as "470.000 kr.", ``0.035`` on a discount rate as
    "3,5 %", a duration law as "blanding: 30 % korte ophold på 0,5 år, lange
    ophold på 11 år i gennemsnit", a distribution as "gamma: middelværdi
    470.000 kr., spredning 60.000 kr."; ``None`` (not set) as an en dash.
    """
    da = lang == "da"
    currency = getattr(scenario, "currency", "DKK")
    kind = value_kind(key)
    last = key.split(".")[-1]
    steps = getattr(scenario, "steps", {})

    def step(s: str) -> str:
        return step_name(scenario, s, lang) if s in steps else s

    if value is None:
        return "–"
    if isinstance(value, bool):
        return ("ja" if value else "nej") if da else ("yes" if value else "no")
    if isinstance(value, dict) and "dist" in value:
        return (
            _law(scenario, key, value, lang)
            if last == "duration"
            else _distribution(scenario, key, value, lang)
        )
    if isinstance(value, list | tuple):
        if not value:
            return "ingen" if da else "none"
        if last in _STEP_LISTS:
            return ", ".join(step(str(v)) for v in value)
        return ", ".join(str(v) for v in value)
    if isinstance(value, str):
        if last in ("wait_on", "overflow_to"):
            return step(value)
        if last == "queue":
            return _words(_QUEUES.get(value, (value, value)), lang)
        if last == "places" and value == "unlimited":
            return "ubegrænset" if da else "unlimited"
        if last == "language":
            return _words(
                {"da": ("Danish", "dansk"), "en": ("English", "engelsk")}.get(value, (value,) * 2), lang
            )
        return value
    if isinstance(value, int | float):
        return _number_in(value, kind, lang, currency)
    return str(value)


def _law(scenario, key: str, law: dict, lang: Lang) -> str:
    """A step's duration law in words."""
    da = lang == "da"
    name = _words(_DISTS.get(law["dist"], (law["dist"],) * 2), lang)
    yrs = lambda v: _number_in(v, "years", lang, "")  # noqa: E731
    if law["dist"] == "mixture":
        share = _number_in(law["short_share"], "share", lang, "")
        if da:
            return (
                f"{name}: {share} korte ophold på {yrs(law['short_mean_years'])}, "
                f"lange ophold på {yrs(law['long_mean_years'])} i gennemsnit"
            )
        return (
            f"{name}: {share} short stays of {yrs(law['short_mean_years'])}, "
            f"long stays of {yrs(law['long_mean_years'])} on average"
        )
    if law["dist"] == "weibull":
        shape = decimal(law["shape"], lang)
        return f"{name}: {'gennemsnit' if da else 'mean'} {yrs(law['mean_years'])}, {'form' if da else 'shape'} {shape}"
    if law["dist"] == "lognormal":
        return f"{name}: {'gennemsnit' if da else 'mean'} {yrs(law['mean_years'])}, sigma {decimal(law['sigma'], lang)}"
    return name


def _distribution(scenario, key: str, spec: dict, lang: Lang) -> str:
    """An uncertain number in words: "gamma: middelværdi 470.000 kr., spredning 60.000 kr."."""
    name = _words(_DISTS.get(spec["dist"], (spec["dist"],) * 2), lang)
    kind = value_kind(key)
    currency = getattr(scenario, "currency", "DKK")
    parts = []
    for p, v in spec.items():
        if p == "dist":
            continue
        word = _words(_PARAMS.get(p, (p, p)), lang)
        if isinstance(v, dict):  # a Dirichlet's mean shares, by step or age band
            steps = getattr(scenario, "steps", {})
            shown = ", ".join(
                f"{step_name(scenario, k, lang) if k in steps else k} {_number_in(x, 'share', lang, '')}"
                for k, x in v.items()
            )
        elif isinstance(v, list | tuple):
            shown = span(*(_number_in(x, kind, lang, currency) for x in v), lang)
        elif p == "concentration":
            shown = decimal(v, lang)
        else:
            shown = _number_in(v, kind, lang, currency)
        parts.append(f"{word} {shown}")
    return f"{name}: {', '.join(parts)}"


# --- Issue 12, words: the precision of numbers in CSV files and the workbook -------------
# Means over replications and discounted sums carry binary float residue
# (504.84999999999997, -1.8e-13) that says nothing. CSV files and workbook cells
# keep a stated precision per kind of number (docs/reference/results-folder.md);
# ``arrays.npz`` keeps every digit.

PRECISION: dict[str, tuple[str, int]] = {
    "money": ("decimals", 0),  # whole kroner
    "count": ("decimals", 2),  # children, child-years, moves: means over replications
    "wait": ("decimals", 3),  # waits in years
    "share": ("decimals", 6),  # shares, probabilities, ratios, discount factors, indices
    "year": ("decimals", 1),  # calendar years (a median of two replications may end in .5)
    "value": ("significant", 6),  # anything else: parameter values, calibration numbers
    "parameter": ("significant", 12),  # a tornado's low and high: rounded once more for the report
}
"""How many digits a kind of number keeps in CSV files and workbook cells."""

_MONEY_PREFIXES = ("cost", "savings_", "investment", "gross_savings", "net_savings", "cum_net", "npv")
_COUNT_NAMES = (
    "stock_end",
    "child_years",
    "new_cases",
    "moves_in",
    "moves_up",
    "moves_down",
    "closed",
    "aged_out",
    "placement_entries",
    "reviews",
    "waiting_end",
    "waiting_years",
    "waits_started",
    "overflows",
    "places",
    "adult_leavers",
    "placed_at_end",
    "children_on_staircase_at_end",
    "placement_child_years",
    "entries",
    "exits",
    "stock_exit_share",
    "persons_in_year",
)
_SHARE_NAMES = ("roi", "utilisation", "discount_factor", "S1", "ST", "S1_conf", "ST_conf", "S2", "S2_conf")


def measure_kind(name: str) -> str:
    """The kind of number a column or metric holds (a key of :data:`PRECISION`)."""
    base = name.removesuffix("_p5").removesuffix("_p95").removesuffix("_mc_se")
    if base in ("year", "payback_year"):
        return "year"
    if base in ("wait_mean", "wait_p90"):
        return "wait"
    if base in _SHARE_NAMES or base.startswith(("probability", "share_")):
        return "share"
    if (
        base.startswith(_MONEY_PREFIXES)
        or base.endswith(("_pv", "_discounted"))
        or base
        in (
            "cost_per_placement_avoided",
            "outcome_central",
        )
    ):
        return "money"
    if base.endswith("_change") and base.startswith("adult_"):
        return "count"
    core = base.removesuffix("_avoided")
    if core in _COUNT_NAMES or core == "placed_at_year_end" or core.startswith("placement_"):
        return "count"
    return "value"


def plain_number(x: float, kind: str) -> str:
    """A number as a CSV file writes it: plain decimals at the kind's precision.

    Never e-notation, never "-0", never residue; nan (no value) as an empty string.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"  # a true infinity (a half-life that never ends) stays one
    how, digits = PRECISION[kind]
    if how == "significant":
        text = np.format_float_positional(x, precision=digits, unique=True, fractional=False, trim="-")
    else:
        text = f"{x:.{digits}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    if text.lstrip("-") in ("0", "0.0", ""):
        return "0"
    return text


def rounded(x: float, kind: str) -> float:
    """A number at the kind's precision (what the CSV file says), for a workbook cell."""
    text = plain_number(x, kind)
    return float(text) if text else float("nan")


# --- Issue 12, words: texts and column headings of this part ------------------------------
TEXT.update(
    {
        "assumptions_note": (
            "Amounts in {currency}, {price_year} prices (a line with its own price year: in that year's "
            "prices), not discounted. Sources are quoted as the scenario files give them.",
            "Beløb i {currency}, {price_year}-priser (en linje med sit eget prisår: i det års priser), "
            "ikke tilbagediskonteret. Kilderne er gengivet, som scenariefilerne angiver dem (i de "
            "medfølgende filer på engelsk).",
        ),
        # charts: the staircase says what changed, the placed children with and without the strategy
        "staircase_panel_base": (
            "End of {year}: {total} children, {placed} of them placed",
            "Udgangen af {year}: {total} børn, heraf {placed} anbragt",
        ),
        "staircase_panel_plan": (
            # A number and its word stay on one line when the title wraps ("-2.415 / anbragt" did not).
            "Against the baseline: {lower}\u00a0on steps without placement, {placed}\u00a0placed",
            "Mod basis: {lower}\u00a0på trin uden anbringelse, {placed}\u00a0anbragt",
        ),
        "staircase_note_taller": (
            "The taller stack with the strategy is more children on the lower steps, not more placed: "
            "placements are the hatched layers.",
            "Den højere stak med strategien er flere børn på de lave trin, ikke flere anbragte: anbringelserne er "
            "de skraverede lag.",
        ),
        "staircase_note_pointer": (
            "The chart of placed children with and without the strategy shows the difference.",
            "Figuren over anbragte børn med og uden strategien viser forskellen.",
        ),
        "placed_axis": ("Children placed at 31 December", "Anbragte børn pr. 31. december"),
        "fewer_axis": ("Fewer placed with the strategy", "Færre anbragte med strategien"),
        "more_axis": ("More placed with the strategy", "Flere anbragte med strategien"),
        "range_reps": (
            "90 % of outcomes over replications",
            "90 % af udfaldene over kørslerne",
        ),
        "placed_title_fewer": (
            "{n} fewer children placed at end of {year} with the strategy: {a} instead of {b}",
            "{n} færre anbragte børn ved udgangen af {year} med strategien: {a} i stedet for {b}",
        ),
        "placed_title_more": (
            "{n} more children placed at end of {year} with the strategy: {a} instead of {b}",
            "{n} flere anbragte børn ved udgangen af {year} med strategien: {a} i stedet for {b}",
        ),
        "placed_title_same": (
            "As many children placed at end of {year} with the strategy as without: {a}",
            "Lige så mange anbragte børn ved udgangen af {year} med strategien som uden: {a}",
        ),
        "placed_note_reps": (
            "Lines: {means}; bands and bars: 90 % of outcomes over the replications (chance in children's "
            "paths).",
            "Linjer: {means}; bånd og streger: 90 % af udfaldene over kørslerne (tilfældighed i børnenes "
            "forløb).",
        ),
        "placed_steps": ("Placed: {steps}.", "Anbragt: {steps}."),
        "waterfall_note_adult_expected": (
            "Present values, expected values. Bars to the NPV: {y0}-{y1}. The dotted bar is a projection of the "
            "adult-life costs of children who left in those years, not a budget line. ",
            "Nutidsværdier, forventede værdier. Søjlerne frem til nettonutidsværdien: {y0}-{y1}. Den prikkede "
            "søjle er en fremskrivning af voksenlivets udgifter for børn, der forlod trappen i de år, ikke en "
            "budgetpost. ",
        ),
        # the terminal: tornado, sensitivity, breakeven
        "cli_key": ("key", "nøgle"),
        "cli_tornado_header": (
            "one-way sensitivity (tornado) of {outcome}, widest swing first",
            "envejsfølsomhed (tornado) for {outcome}, største udsving først",
        ),
        "cli_at_means": ("With every number at its mean", "Med alle tal på deres middelværdi"),
        "cli_nothing_to_vary": (
            "No number is given as a distribution: nothing to vary.",
            "Intet tal er angivet som en fordeling: der er intet at variere.",
        ),
        "cli_status_psa": (
            "{n} draws, {engine}, seed {seed} ...",
            "{n} træk, {engine}, seed {seed} ...",
        ),
        "cli_remade": (
            "remade in {folder}/ (charts as PNG and SVG):",
            "lavet igen i {folder}/ (diagrammer som PNG og SVG):",
        ),
        "cli_status_expected": ("expected values (analytic engine)", "forventede værdier (analytisk model)"),
        "cli_status_dask": ("Dask at {address}", "Dask på {address}"),
        "cli_status_workers": ("{n} worker process(es)", "{n} proces(ser)"),
        "cli_status_exact": (
            "{runs} for the range of outcomes (the means are exact: the analytic engine solves this model)",
            "{runs} til udfaldsrummet (gennemsnittene er eksakte: den analytiske model løser denne model)",
        ),
        "cli_status_precision": (
            "replications until the means are within {share} (at most {most})",
            "kørsler, til gennemsnittene er inden for {share} (højst {most})",
        ),
        "cli_whose_money": (
            "Counted from a {whose} (--perspective {perspective}).",
            "Opgjort i et {whose} (--perspective {perspective}).",
        ),
        "sensitivity_conf_note": (
            "± (95 %): the 95 % confidence interval of each index's estimate from its sample (SALib's "
            "bootstrap), not a range of outcomes. A first-order index above its total index, or "
            "first-order indices adding up to more than 1, can only be this sampling error: a larger -n "
            "narrows it.",
            "± (95 %): 95 %-konfidensintervallet for hvert indeks' skøn ud fra stikprøven (SALibs "
            "bootstrap), ikke et udfaldsrum. Et førsteordensindeks over sit totalindeks, eller "
            "førsteordensindeks, der summer til mere end 1, kan kun være denne stikprøvefejl: et større -n "
            "gør den mindre.",
        ),
        "sensitivity_conf_note_morris": (
            "± (95 %): the 95 % confidence interval of each μ* from its trajectories (SALib's bootstrap), "
            "not a range of outcomes; a larger -n narrows it.",
            "± (95 %): 95 %-konfidensintervallet for hvert μ* ud fra dets baner (SALibs bootstrap), ikke et "
            "udfaldsrum; et større -n gør det smallere.",
        ),
        "cli_sensitivity_header": (
            "{method} of {outcome}, largest first",
            "{method} for {outcome}, største først",
        ),
        "cli_csv_columns": (
            "Columns in sensitivity.csv: {columns}.",
            "Kolonner i sensitivity.csv: {columns}.",
        ),
        "cli_never": ("never", "aldrig"),
        "cli_breakeven_header_effect": (
            "how large must the effect be for the strategy to pay for itself?",
            "hvor stor skal effekten være, for at strategien betaler sig?",
        ),
        "cli_breakeven_header_cost": (
            "what may the programme cost a year and still pay for itself?",
            "hvad må strategien koste om året og stadig betale sig?",
        ),
        "cli_npv_as_assumed": ("Net present value as assumed", "Nettonutidsværdi med de antagne tal"),
        "cli_interval_draws": ("90 % over {n} draws: {lo} to {hi}", "90 % over {n} træk: {lo} til {hi}"),
        "cli_breakeven_cost": (
            "Breaks even at a programme cost of {cost} a year{interval} (assumed: {assumed} a year).",
            "Tjener sig netop hjem ved en udgift til strategien på {cost} om året{interval} "
            "(antaget: {assumed} om året).",
        ),
        "cli_no_breakeven_cost": (
            "It does not break even at any programme cost: even free, its NPV is not positive.",
            "Den tjener sig ikke hjem ved nogen udgift: selv gratis er nettonutidsværdien ikke positiv.",
        ),
        "cli_no_breakeven_effect": (
            "It does not break even even with many times its assumed effect.",
            "Den tjener sig ikke hjem, heller ikke med mange gange den antagne effekt.",
        ),
        "cli_breakeven_free": (
            "From a {whose}, the NPV is not negative even with no effect at all: this payer pays nothing "
            "towards the programme that it does not get back.",
            "I et {whose} er nettonutidsværdien ikke negativ, heller ikke helt uden effekt: alt, hvad denne "
            "betaler lægger i strategien, kommer igen.",
        ),
        "cli_breakeven_effect": (
            "Breaks even at {share} of its assumed effect{interval}; changes in entry scale alike, and the "
            "hazard ratios become:",
            "Tjener sig netop hjem ved {share} af den antagne effekt{interval}; ændringerne i tilgangen skaleres "
            "ligeså, og hazard ratios bliver:",
        ),
        "cli_above_zero": ("just above 0 %", "lige over 0 %"),
        "cli_hazard_ratio": ("Effect (hazard ratio)", "Effekt (hazard ratio)"),
        "cli_at_breakeven": ("At break-even", "Ved nulpunktet"),
        "cli_assumed": ("Assumed", "Antaget"),
        "method_sobol": ("Sobol indices", "Sobol-indeks"),
        "method_morris": ("Morris screening", "Morris-screening"),
        "outcome_npv": ("Net present value", "Nettonutidsværdi"),
        "outcome_roi": ("Net return per krone invested", "Nettoafkast pr. investeret krone"),
        "outcome_placement_entries_avoided": ("New placements avoided", "Nye anbringelser undgået"),
        "outcome_placement_child_years_avoided": ("Placement child-years avoided", "Anbringelsesår undgået"),
        "outcome_placed_at_end_avoided": (
            "Fewer placed at end of horizon",
            "Færre anbragte ved periodens udgang",
        ),
        "outcome_investment_pv": ("Investment (PV)", "Investering (nutidsværdi)"),
        "outcome_gross_savings_pv": ("Gross savings (PV)", "Bruttobesparelse (nutidsværdi)"),
        "outcome_payback_year": ("Payback year", "Hjemtjeningsår"),
        "outcome_waiting_years_avoided": ("Child-years of waiting avoided", "Ventetid undgået (barn-år)"),
        "outcome_overflows_avoided": (
            "Sent on by a full step, avoided",
            "Sendt videre fra et fuldt trin, undgået",
        ),
        "outcome_npv_kommune": ("Net present value for the municipality", "Nettonutidsværdi for kommunen"),
        "outcome_npv_region": ("Net present value for the region", "Nettonutidsværdi for regionen"),
        "outcome_npv_stat": ("Net present value for the state", "Nettonutidsværdi for staten"),
        "outcome_npv_society": (
            "Net present value for the public sector as a whole",
            "Nettonutidsværdi for den samlede offentlige sektor",
        ),
        "outcome_adult_consequences_avoided_pv": (
            "Adult-life costs avoided (projection)",
            "Undgåede udgifter i voksenlivet (fremskrivning)",
        ),
        "outcome_probability_npv_positive": (
            "Probability that NPV > 0",
            "Sandsynlighed for positiv nettonutidsværdi",
        ),
        "outcome_probability_npv_with_adult_positive": (
            "Probability NPV > 0 with adult life",
            "Sandsynlighed for gevinst med voksenlivet",
        ),
        "outcome_cost_per_placement_avoided": (
            "Investment (PV) per new placement avoided, gross",
            "Investering (nutidsværdi) pr. undgået ny anbringelse, brutto",
        ),
        "outcome_npv_with_adult_consequences": (
            "Net present value with adult-life costs",
            "Nettonutidsværdi med voksenlivets udgifter",
        ),
    }
)
COLUMNS.update(
    {
        "adult_leavers": ("Children leaving (adult life counted)", "Børn, der forlader trappen (voksenliv)"),
        "adult_cost_pv": ("Adult-life cost, discounted", "Udgift i voksenlivet, tilbagediskonteret"),
        "S1": ("First-order index", "Førsteordensindeks"),
        "S1_conf": ("First-order index, ± (95 %)", "Førsteordensindeks, ± (95 %)"),
        "ST": ("Total index", "Totalindeks"),
        "ST_conf": ("Total index, ± (95 %)", "Totalindeks, ± (95 %)"),
        "mu_star": ("Mean absolute effect (μ*)", "Gns. absolut virkning (μ*)"),
        "mu_star_conf": ("Mean absolute effect, ± (95 %)", "Gns. absolut virkning, ± (95 %)"),
        "mu": ("Mean effect (μ)", "Gns. virkning (μ)"),
        "sigma": ("Spread of effects (σ)", "Spredning af virkninger (σ)"),
        "outcome": ("Outcome", "Resultat"),
        "outcome_central": ("Outcome, every number at its mean", "Resultat med alle tal på middelværdien"),
    }
)
