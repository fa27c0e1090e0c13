"""Words and numbers in Danish or English: labels, titles and number formats.

Charts, the workbook, the HTML report and the terminal summary take every
word from :data:`TEXT` and every number through the functions here, so a
report is in one language throughout. Number formats come from the Unicode
CLDR through Babel: Danish "1.234.567 kr." and "3,5 %", English
"DKK 1,234,567" and "3.5 %". CSV files keep English column names and plain
decimals: they are for programs, not for reading.
"""

from __future__ import annotations

import math
from typing import Literal

from babel.numbers import format_decimal, get_currency_symbol

Lang = Literal["da", "en"]
LANGUAGES: tuple[Lang, ...] = ("da", "en")
_LOCALE = {"da": "da_DK", "en": "en_GB"}
NBSP = "\u00a0"  # keeps "3,5 %" and "12 mio. kr." on one line

# key: (English, Danish). Placeholders are filled by :func:`t`.
TEXT: dict[str, tuple[str, str]] = {
    # axes and legends
    "year": ("Year", "År"),
    "children": ("Children", "Børn"),
    "year_stock": ("Year (children on each step at 31 December)", "År (børn på hvert trin pr. 31. december)"),
    "step_legend": ("Step (hatched: placement)", "Trin (skraveret: anbringelse)"),
    "interval_reps": ("90 % interval over replications", "90 %-interval over simuleringskørsler"),
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
    # placements avoided chart
    "entries_avoided_bar": ("New placements avoided in the year", "Nye anbringelser undgået i året"),
    "fewer_placed_line": ("Fewer children placed at 31 December", "Færre anbragte børn pr. 31. december"),
    "avoided_title": ("{n} new placements avoided {y0}-{y1}", "{n} nye anbringelser undgået {y0}-{y1}"),
    "interval_short": ("90 %: {lo} to {hi}", "90 %: {lo} til {hi}"),
    "avoided_note": (
        "Counted over {y0}-{y1}: a placement only delayed within these years is not counted as avoided; "
        "one delayed beyond {y1} is. The line shows the lasting effect.",
        "Talt over {y0}-{y1}: en anbringelse, der kun udskydes inden for årene, tælles ikke som undgået; "
        "en, der udskydes til efter {y1}, gør. Linjen viser den varige effekt.",
    ),
    # payback chart
    "cum_net": ("Cumulative net savings (mean)", "Akkumuleret nettobesparelse (gennemsnit)"),
    "no_payback_title": ("No payback within the horizon (by {year})", "Tjener sig ikke hjem inden {year}"),
    "no_payback_mark": ("no payback within horizon", "tjener sig ikke hjem inden for perioden"),
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
    "waterfall_note": (
        "Present values {y0}-{y1}, mean of {n}. Long-run adult consequences after the horizon "
        "are not included. ",
        "Nutidsværdier {y0}-{y1}, gennemsnit af {n}. Langsigtede konsekvenser i voksenlivet efter "
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
    # PSA charts
    "p_paid_back": ("Probability of having paid back (%)", "Sandsynlighed for at være hjemtjent (%)"),
    "more_likely_from": ("more likely than not from {year}", "over 50 % sandsynligt fra {year}"),
    "less_likely": ("less likely than not in every year", "under 50 % sandsynligt i alle år"),
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
    "low_pct": ("number at its low value (5th percentile)", "tallet på sin lave værdi (5. percentil)"),
    "high_pct": ("number at its high value (95th percentile)", "tallet på sin høje værdi (95. percentil)"),
    "depends_most": ("{outcome} depends most on {name}", "{outcome} afhænger mest af {name}"),
    "no_uncertain": ("no uncertain number", "intet usikkert tal"),
    "others_at_mean": ("All other numbers at their means. ", "Alle andre tal på deres middelværdi. "),
    # key figures
    "kf_entries_avoided": ("New placements avoided", "Nye anbringelser undgået"),
    "kf_child_years_avoided": ("Placement child-years avoided", "Anbringelsesår undgået"),
    "kf_fewer_placed": ("Fewer placed at end of horizon", "Færre anbragte ved periodens udgang"),
    "kf_waiting_avoided": ("Child-years of waiting avoided", "Ventetid undgået (barn-år)"),
    "kf_overflows_avoided": ("Sent on by a full step, avoided", "Sendt videre fra et fuldt trin, undgået"),
    "kf_investment": ("Investment (PV)", "Investering (nutidsværdi)"),
    "kf_savings": ("Gross savings (PV)", "Bruttobesparelse (nutidsværdi)"),
    "kf_npv": ("Net present value", "Nettonutidsværdi"),
    "kf_roi": ("Return on investment", "Afkast pr. investeret krone"),
    "kf_payback": ("Payback year", "Hjemtjeningsår"),
    "kf_payback_one": ("Payback year", "Hjemtjeningsår"),
    "kf_p_npv": ("Probability that NPV > 0", "Sandsynlighed for positiv nettonutidsværdi"),
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
    "u_persons": (
        "adults above the reference share, of the children leaving in the period",
        "voksne ud over referenceandelen, blandt børn der forlader trappen i perioden",
    ),
    "u_child_years": ("child-years", "barn-år"),
    "u_ratio": (
        "net {currency} back per {currency} invested",
        "netto {currency} tilbage pr. investeret {currency}",
    ),
    "u_year": ("calendar year", "kalenderår"),
    "u_share": ("share of draws", "andel af træk"),
    "u_money": (
        "{currency}, {price_year} prices, discounted to {start_year}",
        "{currency}, {price_year}-priser, tilbagediskonteret til {start_year}",
    ),
    "programme_row": ("Programme, caseworkers and extra places", "Program, sagsbehandlere og ekstra pladser"),
    "psa_header": (
        "{n} draws, mean [90 % interval over draws]",
        "{n} træk, gennemsnit [90 %-interval over træk]",
    ),
    "kf_cost_per_avoided": ("Cost per placement avoided", "Udgift pr. undgået anbringelse"),
    "expected_note": (
        "Expected values from the analytic engine (no chance variation).",
        "Forventede værdier fra den analytiske model (uden tilfældig variation).",
    ),
    "cum_net_expected": ("Cumulative net savings (expected)", "Akkumuleret nettobesparelse (forventet)"),
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
        "Net present value for society (all payers)",
        "Nettonutidsværdi for samfundet (alle betalere)",
    ),
    "persp_kommune": ("the municipality's", "kommunens"),
    "persp_region": ("the region's", "regionens"),
    "persp_stat": ("the state's", "statens"),
    "persp_society": ("society's", "samfundets"),
    "kf_adult": (
        "Adult-life costs avoided, projected beyond the horizon",
        "Undgåede udgifter i voksenlivet, fremskrevet ud over perioden",
    ),
    "group_projection": (
        "Beyond the horizon (a projection, not a budget line)",
        "Ud over perioden (en fremskrivning, ikke en budgetpost)",
    ),
    "group_payers": ("By payer, within the horizon", "Pr. betaler, inden for perioden"),
    "group_psa": ("With the uncertain numbers drawn (PSA)", "Med de usikre tal trukket (PSA)"),
    "kf_p_npv_adult": (
        "Probability NPV > 0 with adult life",
        "Sandsynlighed for gevinst med voksenlivet",
    ),
    "kf_adult_outcome": ("Change in adults: {name}", "Ændring i antal voksne: {name}"),
    "kf_npv_adult": ("Net present value with adult-life costs", "Nettonutidsværdi med voksenlivets udgifter"),
    "waterfall_note_adult": (
        "Present values, mean of {n}. Bars to the NPV: {y0}-{y1}. The dotted bar is a projection of the "
        "adult-life costs of children who left in those years, not a budget line. ",
        "Nutidsværdier, gennemsnit af {n}. Søjlerne frem til nettonutidsværdien: {y0}-{y1}. Den prikkede søjle er "
        "en fremskrivning af voksenlivets udgifter for børn, der forlod trappen i de år, ikke en budgetpost. ",
    ),
    "wf_adult": ("Adult life (projection)", "Voksenliv (fremskrivning)"),
    "wf_npv_adult": ("NPV with adult life", "Nettonutidsværdi med voksenliv"),
    "none": ("none", "ingen"),
    "not_within": ("not within {y1}", "ikke inden {y1}"),
    "mean_interval": ("mean [90 % interval over replications]", "gennemsnit [90 %-interval over kørsler]"),
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
        "Means: exact, from the analytic engine, which solves this model; the simulation's own means lie "
        "within {gap} of them, as chance allows.",
        "Gennemsnit: eksakte, fra den analytiske model, som løser denne model; simuleringens egne "
        "gennemsnit ligger inden for {gap} af dem, som tilfældigheden tillader.",
    ),
    "legend_disagree": (
        "Warning: the simulation's own mean of '{metric}' is {z} standard errors from the analytic "
        "engine's, more than chance allows; the two engines should agree: please report this.",
        "Advarsel: simuleringens eget gennemsnit af '{metric}' ligger {z} standardfejl fra den analytiske "
        "models, mere end tilfældigheden tillader; de to beregninger burde stemme: meld det venligst.",
    ),
    "legend_precision": (
        "Precision: half-width of the 95 % interval of the mean over {n} (chance in the simulation); "
        "aimed at {target} of the value, reached {reached}.",
        "Præcision: halv bredde af 95 %-intervallet for gennemsnittet over {n} (tilfældighed i "
        "simuleringen); mål {target} af værdien, nået {reached}.",
    ),
    "legend_precision_fixed": (
        "Precision: half-width of the 95 % interval of the mean over {n} (chance in the simulation); "
        "reached {reached} of the value.",
        "Præcision: halv bredde af 95 %-intervallet for gennemsnittet over {n} (tilfældighed i "
        "simuleringen); nået {reached} af værdien.",
    ),
    "legend_not_reached": (
        "The target was not reached in {n}: add --max-replications for more, or read the means with "
        "their precision.",
        "Målet blev ikke nået med {n}: giv --max-replications for flere, eller læs gennemsnittene med "
        "deres præcision.",
    ),
    "legend_range": (
        "Range of outcomes: where the actual figure may fall by chance (5th to 95th percentile over {n}); "
        "uncertain assumptions are not in it (see trappesim psa).",
        "Udfaldsrum: hvor det faktiske tal kan lande ved tilfældighed (5.-95. percentil over {n}); usikre "
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
        "DES check ({n}): largest gap to the analytic fit {z} standard errors",
        "Kontrol med simulering (DES, {n}): største afvigelse fra den analytiske tilpasning {z} standardfejl",
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


def runs(n: int, lang: Lang) -> str:
    """``"1 replication"``, ``"3 replications"``; ``"1 kørsel"``, ``"3 kørsler"``."""
    if lang == "da":
        return f"{n} kørsel" if n == 1 else f"{number(n, lang)} kørsler"
    return f"{n} replication" if n == 1 else f"{number(n, lang)} replications"


def resolve(lang: str | None, scenario) -> Lang:
    """The language asked for, else the scenario's (Danish by default)."""
    chosen = lang or getattr(scenario, "language", "da")
    if chosen not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {chosen!r}")
    return chosen  # type: ignore[return-value]


def number(x: float, lang: Lang, decimals: int = 0, signed: bool = False) -> str:
    """``1234567.8`` as ``"1.234.568"`` (da) or ``"1,234,568"`` (en); ``nan`` as an en dash.

    ``signed`` puts a plus before a positive number (for a change).
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    if round(x, decimals) == 0:
        x = 0.0  # no "-0" for a small negative number
    text = format_decimal(x, format=pattern, locale=_LOCALE[lang])
    return "+" + text if signed and round(x, decimals) > 0 else text


def decimal(x: float, lang: Lang) -> str:
    """A number with as many decimals as it needs (up to six): ``0.35`` as ``"0,35"`` (da)."""
    return format_decimal(x, format="#,##0.######", locale=_LOCALE[lang])


def percent(share: float, lang: Lang, decimals: int = 0) -> str:
    """A share as a percentage: ``0.035`` as ``"3,5 %"`` (da) or ``"3.5 %"`` (en).

    Both languages put a (non-breaking) space before the sign, as Danish and
    SI usage do.
    """
    if share is None or math.isnan(share):
        return "–"
    return f"{number(100 * share, lang, decimals)}{NBSP}%"


def currency_symbol(currency: str, lang: Lang) -> str:
    """``"kr."`` for DKK in Danish; the ISO code otherwise."""
    return get_currency_symbol(currency, locale=_LOCALE[lang]) if lang == "da" else currency


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
    div = {"units": 1.0, "m": 1e6, "bn": 1e9}[scale]
    # Billions keep two decimals: "7,56 mia. kr." says as much as "7.561 mio. kr.".
    digits = decimals if decimals is not None else {"units": 0, "m": 1, "bn": 2}[scale]
    n = number(x / div, lang, digits)
    sym = currency_symbol(currency, lang)
    if lang == "da":
        word = {"units": "", "m": f"mio.{NBSP}", "bn": f"mia.{NBSP}"}[scale]
        return f"{n}{NBSP}{word}{sym}"
    word = {"units": "", "m": f"{NBSP}m", "bn": f"{NBSP}bn"}[scale]
    return f"{sym}{NBSP}{n}{word}"


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
    """Footnote for every money figure: currency, price year, discount rates."""
    s = scenario
    if lang == "da":
        return (
            f"Beløb i {currency_symbol(s.currency, lang)}, {s.price_year}-priser; tilbagediskonteret til "
            f"{s.discount_year} med en real rente på {discounting(s, lang)} ({s.discounting.source})."
        )
    return (
        f"{s.currency}, {s.price_year} prices; discounted to {s.discount_year} at a real rate of "
        f"{discounting(s, lang)} ({s.discounting.source})."
    )


def step_name(scenario, step: str, lang: Lang) -> str:
    """A step's name from the scenario file, in ``lang``."""
    st = scenario.steps[step]
    return st.name_da if lang == "da" else st.name_en


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
    "aged_out": ("Aged out", "Udgået pga. alder"),
    "placement_entries": ("New placements", "Nye anbringelser"),
    "entries": ("Entries", "Tilgang"),
    "exits": ("Exits", "Afgang"),
    "reviews": ("Reviews held", "Opfølgninger"),
    "waiting_end": ("Waiting at 31 Dec", "På venteliste pr. 31. dec."),
    "waiting_years": ("Child-years waiting", "Barn-år på venteliste"),
    "waits_started": ("Waits started", "Ventetider startet"),
    "overflows": ("Sent on (step full)", "Sendt videre (trin fuldt)"),
    "wait_mean": ("Mean wait (years)", "Gns. ventetid (år)"),
    "wait_p90": ("90th percentile wait (years)", "90 %-fraktil ventetid (år)"),
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
    "p5": ("5th percentile", "5 %-fraktil"),
    "p95": ("95th percentile", "95 %-fraktil"),
    "unit": ("Unit", "Enhed"),
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
    for end, words in (("_p5", (" (5 %)", " (5 %)")), ("_p95", (" (95 %)", " (95 %)"))):
        if name.endswith(end) and name[: -len(end)] in COLUMNS:
            base, suffix = name[: -len(end)], words[lang == "da"]
    if base in COLUMNS:
        en, da = COLUMNS[base]
        return (da if lang == "da" else en) + suffix
    if name.startswith("savings_") and scenario is not None and name[8:] in scenario.steps:
        return t("savings_on", lang, step=step_name(scenario, name[8:], lang))
    return name


_FIELDS: dict[str, tuple[str, str]] = {
    "cost_per_year": ("cost per child-year", "udgift pr. barn-år"),
    "entry_cost": ("one-off cost per entry", "engangsudgift pr. indgang"),
    "short_share": ("share of short stays", "andel korte ophold"),
    "short_mean_years": ("mean short stay (years)", "gns. kort ophold (år)"),
    "long_mean_years": ("mean long stay (years)", "gns. langt ophold (år)"),
    "mean_years": ("mean stay (years)", "gns. ophold (år)"),
    "children": ("children at the start", "børn ved start"),
    "places": ("places", "pladser"),
    "name_da": ("name (Danish)", "navn (dansk)"),
    "name_en": ("name (English)", "navn (engelsk)"),
    "placement": ("is a placement", "er en anbringelse"),
    "price_year": ("price year of its costs", "prisår for dens udgifter"),
    "kommune": ("share paid by the municipality", "andel betalt af kommunen"),
    "region": ("share paid by the region", "andel betalt af regionen"),
    "stat": ("share paid by the state", "andel betalt af staten"),
}
_PAYER_OF: dict[str, tuple[str, str]] = {
    "intervention": ("Strategy", "Strategien"),
    "casework": ("Caseworkers", "Sagsbehandlere"),
    "adult": ("Adult life", "Voksenliv"),
}
_TOP: dict[str, tuple[str, str]] = {
    "intervention.cost_per_year": ("Programme cost per year", "Strategiens udgift pr. år"),
    "intervention.one_off_cost": ("Programme one-off cost", "Strategiens engangsudgift"),
    "intervention.cost_per_child_reached": ("Cost per child reached", "Udgift pr. barn nået"),
    "intervention.start_year": ("Strategy starts", "Strategien starter"),
    "intervention.ramp_up_years": ("Years to full effect", "År til fuld effekt"),
    "intervention.extra_caseworkers": ("Extra caseworkers", "Ekstra sagsbehandlere"),
    "intervention.end_year": ("Programme's last year", "Programmets sidste år"),
    "intervention.fading.half_life_years": ("Effect's half-life (years)", "Effektens halveringstid (år)"),
    "intervention.fading.after_year": ("Effect fades after", "Effekten aftager efter"),
    "intervention.entry.extra_entries_share": ("Extra new cases (share)", "Ekstra nye sager (andel)"),
    "intervention.entry.extra_entries_per_year": ("Extra new cases a year", "Ekstra nye sager pr. år"),
    "intervention.name": ("Strategy", "Strategi"),
    "population.children": ("Children in the area", "Børn i området"),
    "population.entries_per_year": ("New cases a year", "Nye sager pr. år"),
    "population.entries_per_1000_children": (
        "New cases a year per 1,000 children",
        "Nye sager pr. år pr. 1.000 børn",
    ),
    "population.leaving_age": ("Age at which children leave", "Alder ved udgang"),
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
    "adult.years": ("Adult years counted", "Voksenår talt med"),
    "adult.from_age": ("Adult life counted from age", "Voksenliv talt fra alderen"),
    "adult.price_year": ("Price year of adult-life costs", "Prisår for voksenlivets udgifter"),
    "discounting.to_year": ("Discounted to year", "Tilbagediskonteret til år"),
}


def describe(scenario, key: str, lang: Lang) -> str:
    """A key path in words: ``transitions.home.foster`` as "Rate: Home-based measures → Foster family".

    Falls back to the key itself for keys it has no words for.
    """
    if key in _TOP:
        en, da = _TOP[key]
        return da if lang == "da" else en
    parts = key.split(".")
    steps = getattr(scenario, "steps", {})

    def name(step: str) -> str:
        if step in steps:
            return step_name(scenario, step, lang)
        return {"closed": ("case closed", "sag lukket")}.get(step, (step, step))[lang == "da"]

    def field(f: str) -> str:
        en, da = _FIELDS.get(f, (f.replace("_", " "), f.replace("_", " ")))
        return da if lang == "da" else en

    if parts[0] == "steps" and len(parts) >= 3:
        return f"{name(parts[1])}: {field(parts[-1])}"
    if parts[0] == "transitions" and len(parts) >= 3:
        band = f" ({parts[3]})" if len(parts) > 3 else ""
        word = "Rate" if lang == "en" else "Overgangsrate"
        return f"{word}: {name(parts[1])} → {name(parts[2])}{band}"
    if parts[:2] == ["intervention", "hazard_ratios"] and len(parts) >= 4:
        word = "Effect (hazard ratio)" if lang == "en" else "Effekt (hazard ratio)"
        return f"{word}: {name(parts[2])} → {name(parts[3])}"
    if parts[-2:-1] == ["entry_step_shares"]:
        word = "Share of new cases starting on" if lang == "en" else "Andel nye sager, der starter på"
        return f"{word} {name(parts[-1])}"
    if parts[:2] == ["population", "initial_stock"] and len(parts) >= 4:
        return f"{name(parts[2])}: {field(parts[3])}"
    if parts[:2] == ["population", "entry_age_shares"] and len(parts) == 3:
        return (
            f"Share of new cases aged {parts[2]}" if lang == "en" else f"Andel nye sager i alderen {parts[2]}"
        )
    if parts[0] == "adult" and len(parts) >= 3 and parts[1] == "cost_per_year":
        band = f" ({parts[3]})" if len(parts) > 3 else ""
        word = "Adult-life cost a year, highest step" if lang == "en" else "Udgift pr. voksenår, højeste trin"
        return f"{word}: {name(parts[2])}{band}"
    if parts[:2] == ["adult", "outcomes"] and len(parts) >= 4:
        outcome = scenario.adult.outcomes.get(parts[2]) if getattr(scenario, "adult", None) else None
        what = (outcome.name_da if lang == "da" else outcome.name_en) if outcome else parts[2]
        if parts[3] == "share" and len(parts) > 4:
            word = "share, highest step" if lang == "en" else "andel, højeste trin"
            return f"{what.capitalize()}: {word} {name(parts[4])}"
        words = {
            "reference_share": ("share among everyone else", "andel blandt alle andre"),
            "cost_per_year": (
                "cost per person-year above the reference",
                "udgift pr. person-år ud over referencen",
            ),
        }
        en, da = words.get(parts[3], (field(parts[3]),) * 2)
        return f"{what.capitalize()}: {da if lang == 'da' else en}"
    if parts[0] == "prices" and len(parts) == 3 and parts[1] == "index":
        return f"{'Price index' if lang == 'en' else 'Prisindeks'} {parts[2]}"
    if len(parts) >= 3 and parts[-2] == "payers":
        owner = _PAYER_OF.get(parts[0])
        where = name(parts[1]) if parts[0] == "steps" else (owner[lang == "da"] if owner else parts[0])
        return f"{where}: {field(parts[-1])}"
    if parts[0] == "discounting" and key.endswith(".rate"):
        return (
            "Discount rate, period " + key[19] if lang == "en" else "Diskonteringsrente, periode " + key[19]
        )
    return key
