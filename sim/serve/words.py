"""The what-if page's own words, in English and Danish (the figures' words are :mod:`sim.outputs.language`'s)."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    # (English, Danish)
    "group_effect": ("Effect", "Effekt"),
    "group_programme": ("Programme", "Strategien"),
    "group_timing": ("Timing", "Tidsplan"),
    "group_pair": ("Both arms", "Basis og strategi"),
    "effect": ("Effect size (share of the assumed effect)", "Effektstørrelse (andel af den antagne effekt)"),
    "hr": ("{src} → {dst}", "{src} → {dst}"),
    "hr_heading": (
        "Hazard ratios: factors on the baseline's rates of moving, at full effect",
        "Hazardratioer: faktorer på basisscenariets overgangsrater, ved fuld effekt",
    ),
    # At full effect, as the hazard ratios: the effect size scales them too (the docs say so).
    "extra_share": (
        "Extra new cases found by earlier detection, at full effect",
        "Ekstra nye sager fra tidligere opsporing, ved fuld effekt",
    ),
    "extra_per_year": ("Extra new cases a year, at full effect", "Ekstra nye sager om året, ved fuld effekt"),
    "cost": ("Programme cost per year", "Strategiens udgift pr. år"),
    "one_off": ("One-off cost in the start year", "Engangsudgift i startåret"),
    "start": ("Start year", "Startår"),
    "ramp": ("Ramp-up (years to full effect)", "Indfasning (år til fuld effekt)"),
    "end": (
        "Last year of the programme (empty: to the horizon)",
        "Strategiens sidste år (tomt: til horisonten)",
    ),
    "half_life": (
        "Effect's half-life in years (from the programme's last year, or from its start if it has none; "
        "empty: no fading, the effect lasts while the programme runs)",
        "Effektens halveringstid i år (fra strategiens sidste år, eller fra starten hvis den ingen har; "
        "tomt: ingen aftagning, effekten varer, mens strategien kører)",
    ),
    "places": ("Places: {step}", "Pladser: {step}"),
    "discount": ("Discount rate, years 0-35", "Diskonteringsrente, år 0-35"),
    "horizon": ("Horizon (years)", "Tidshorisont (år)"),
    "perspective": ("Whose money", "Hvis penge"),
    "persp_kommune": ("the municipality (kommune)", "kommunen"),
    "persp_region": ("the region", "regionen"),
    "persp_stat": ("the state (stat)", "staten"),
    "persp_society": ("the public sector as a whole", "den samlede offentlige sektor"),
    "unit_percent": ("%", "%"),
    "unit_dkk_m": ("DKK\u00a0m", "mio.\u00a0kr."),  # never broken across lines
    "unit_year": ("", ""),
    "unit_years": ("years", "år"),
    "unit_children": ("children a year", "børn om året"),
    "unit_places": ("places", "pladser"),
    "unit_ratio": ("× rate", "× rate"),
    "err_number": ("Write a number, e.g. {example}.", "Skriv et tal, fx {example}."),
    "err_whole": ("Write a whole number, e.g. {example}.", "Skriv et helt tal, fx {example}."),
    "err_range": ("Allowed: {low} to {high}.", "Tilladt: {low} til {high}."),
    "file_stamp": ("what-if page on {day}", "hvad-nu-hvis-siden den {day}"),
    "file_was": ("was", "var"),
    "file_not_set": ("not set", "ikke sat"),
    "file_old_note": ("note on the old value", "note til den gamle værdi"),
    "file_header": (
        "Made from {source} by the Trappesim what-if page on {day};",
        "Lavet ud fra {source} på Trappesims hvad-nu-hvis-side den {day};",
    ),
    "file_save": (
        "each changed value says its old value. Save it in the folder of {source}.",
        "hver ændret værdi siger sin gamle værdi. Gem den i mappen med {source}.",
    ),
    "file_save_beside": (
        "each changed value says its old value. Save it in the folder of {source}, beside {baseline}.",
        "hver ændret værdi siger sin gamle værdi. Gem den i mappen med {source}, ved siden af {baseline}.",
    ),
    "discount_source": (
        "first rate set on the what-if page; the file's: {rate}{source}",
        "første rente sat på hvad-nu-hvis-siden; filens: {rate}{source}",
    ),
    "problem_file": (
        "The page does not know this file: it reads only the files it was given or that lie in its folder. "
        "The check says:",
        "Siden kender ikke denne fil: den læser kun de filer, den fik, eller som ligger i dens mappe. "
        "Kontrollen siger (på engelsk):",
    ),
    "problem_read": (
        "A scenario file of this page cannot be used; the check says (in English):",
        "En scenariefil på denne side kan ikke bruges; kontrollen siger (på engelsk):",
    ),
    "problem_pair": (
        "These two files cannot be compared; the check says (in English):",
        "Disse to filer kan ikke sammenlignes; kontrollen siger (på engelsk):",
    ),
    "err_after_horizon": (
        "The strategy starts in {start}, after the last year counted ({last}): choose a longer horizon or "
        "an earlier start.",
        "Strategien starter i {start}, efter det sidste år, der tælles ({last}): vælg en længere "
        "tidshorisont eller en tidligere start.",
    ),
    "err_choice": ("Allowed: {allowed}.", "Tilladt: {allowed}."),
    "err_required": ("A value is needed here.", "Her skal stå en værdi."),
    "err_scenario": ("Not allowed: {message}.", "Ikke tilladt: {message}."),
    "err_discount_year": (
        "The horizon must reach {year}, the year amounts are discounted to (it now ends in {last}).",
        "Tidshorisonten skal nå {year}, året beløbene tilbagediskonteres til (den slutter nu i {last}).",
    ),
    "be_from": (
        "pays back from {share} of the assumed effect",
        "tjener sig hjem fra {share} af den antagne effekt",
    ),
    "be_never": ("does not pay back at any effect size", "tjener sig ikke hjem ved nogen effektstørrelse"),
    "be_beyond": (
        "does not pay back within the horizon at up to {top} of the assumed effect (only from {share})",
        "tjener sig ikke hjem inden for perioden ved op til {top} af den antagne effekt (først fra {share})",
    ),
    "be_nothing": (
        "from a {whose}, nothing is touched: no effect size changes the figures",
        "i et {whose} berøres intet: ingen effektstørrelse ændrer tallene",
    ),
    "zero_payer": (
        "In these files this payer neither pays for the strategy nor saves by it: every figure is 0 in a "
        "{whose}. Choose another payer, or give the steps and the programme payers (see the payers guide).",
        "I disse filer hverken betaler eller sparer denne betaler ved strategien: alle tal er 0 i et {whose}. "
        "Vælg en anden betaler, eller giv trinene og strategien betalere (se vejledningen om betalere).",
    ),
    "society_is_kommune": (
        "In these files every cost is municipal, so the figures for the public sector as a whole are the "
        "municipal ones.",
        "I disse filer er alle udgifter kommunale, så tallene for den samlede offentlige sektor er de samme "
        "som de kommunale.",
    ),
    "be_no_effect": (
        "no effect to scale: the strategy changes no rate and no number of new cases",
        "ingen effekt at skalere: strategien ændrer ingen rate og intet antal nye sager",
    ),
    "be_always": ("pays back even without any effect", "tjener sig hjem selv uden effekt"),
    # A hazard ratio of 0 stays 0 at any positive share of the effect: the break-even is just above 0.
    "be_above_zero": (
        "pays back from just above 0 % of the assumed effect (without any effect it does not)",
        "tjener sig hjem fra lige over 0 % af den antagne effekt (helt uden effekt ikke)",
    ),
    "be_more_than": ("more than {share}", "mere end {share}"),
    "be_none": (
        "break-even effect not found",
        "effekten, hvor strategien lige tjener sig hjem, blev ikke fundet",
    ),
    "be_wait": ("finding the break-even effect …", "finder effekten, hvor strategien lige tjener sig hjem …"),
    "whatif": ("what-if", "hvad nu hvis"),
    "pairs_title": ("Choose a strategy and its baseline", "Vælg en strategi og dens basis"),
    "pairs_folder": ("Scenario files in {folder}", "Scenariefiler i {folder}"),
    "extends": ("extends", "bygger på"),
    "no_pairs": (
        "No strategy file here extends a baseline. Choose two files below.",
        "Ingen strategifil her bygger på en basis. Vælg to filer nedenfor.",
    ),
    "own_pair": ("Or choose two files", "Eller vælg to filer"),
    "baseline": ("Baseline", "Basis"),
    "strategy": ("Strategy", "Strategi"),
    "open": ("Open", "Åbn"),
    "broken": ("Files that cannot be read", "Filer der ikke kan læses"),
    "compared_with": ("compared with {base}", "sammenlignet med {base}"),
    "other_files": ("other files", "andre filer"),
    "levers_note": (
        "A field away from the files' value is marked, with the files' value below it. Write decimals "
        "with a point (3.5); a comma before three digits groups thousands (1,250 is one thousand two "
        "hundred and fifty), before one or two it is read as a decimal comma (3,5).",
        "Et felt, der afviger fra filernes værdi, er markeret, med filernes værdi under sig. Skriv "
        "decimaler med komma (3,5); et punktum foran tre cifre adskiller tusinder (1.250 er "
        "et tusind to hundrede og halvtreds), foran et eller to læses det som decimalpunktum (3.5).",
    ),
    "file_value": ("in the files: {value}", "i filerne: {value}"),
    "save_variant": ("Save as variant", "Gem som variant"),
    "variants_full": (
        "Three variants are kept: saving drops the oldest.",
        "Der gemmes tre varianter: den ældste udgår ved næste.",
    ),
    "reset": ("Back to the files' values", "Tilbage til filernes værdier"),
    "sim_elsewhere": (
        "A simulation of other lever settings is still running ({done} of {planned} replications); a new "
        "one can start when it ends or is cancelled.",
        "En simulering af andre indstillinger kører stadig ({done} af {planned} kørsler); en ny "
        "kan starte, når den er færdig eller annulleret.",
    ),
    "variant_invalid": ("Cannot be shown:", "Kan ikke vises:"),
    "save_refused": (
        "Nothing was saved: correct the marked fields first (a variant keeps only values that can be read).",
        "Intet blev gemt: ret de markerede felter først (en variant gemmer kun værdier, der kan læses).",
    ),
    "variants": ("Variants side by side", "Varianter side om side"),
    "variant": ("Variant {n}", "Variant {n}"),
    "changes": ("Changed levers", "Ændrede indstillinger"),
    "variant_terms": ("Years, payer and money", "År, betaler og beløb"),
    "as_files": ("as in the files", "som i filerne"),
    "remove": ("remove", "fjern"),
    "variants_note": (
        "Expected values from the analytic model, each with its own levers; the page's link keeps them.",
        "Forventede værdier fra den analytiske model, hver med sine egne indstillinger; sidens link gemmer dem.",
    ),
    "live_title": ("The answer, as the levers stand", "Svaret med indstillingerne, som de står nu"),
    "live_note": (
        "Expected values from the analytic model, {y0}-{y1}, {whose}: without chance variation, "
        "so without intervals; run the simulation for those.",
        "Forventede værdier fra den analytiske model, {y0}-{y1}, {whose}: uden tilfældig "
        "variation og derfor uden intervaller; kør simuleringen for dem.",
    ),
    "uncapped_note": (
        "These live figures lift the limits on places (the analytic model cannot make children wait); the "
        "simulation counts the places.",
        "Disse tal ser bort fra grænserne for antal pladser (den analytiske model kan ikke lade børn vente); "
        "simuleringen tæller pladserne med.",
    ),
    "cost_only": (
        "Its cost without its effect, not its result: run the simulation",
        "Dens udgift uden dens virkning, ikke dens resultat: kør simuleringen",
    ),
    "through_places": (
        "This strategy works through places on steps with a limit, which the live figures cannot count: they "
        "show its cost without its effect. Run the simulation below for what it does.",
        "Denne strategi virker gennem pladser på trin med en grænse, som de løbende tal ikke kan tælle: de viser "
        "dens udgift uden dens effekt. Kør simuleringen nedenfor for, hvad den gør.",
    ),
    "all_figures": ("All figures", "Alle tal"),
    "downloads": ("Take it with you", "Tag det med"),
    "dl_strategy": ("Strategy as TOML", "Strategien som TOML"),
    "dl_baseline": ("Baseline as TOML", "Basis som TOML"),
    "downloads_note": (
        "The TOML files keep the original comments; each changed value says its old value and the date. "
        "Saved beside the original files, this command gives the figures above:",
        "TOML-filerne beholder de oprindelige kommentarer; hver ændret værdi angiver sin gamle værdi og "
        "datoen. Gemt ved siden af de oprindelige filer giver denne kommando tallene ovenfor:",
    ),
    "downloads_note_places": (
        "The TOML files keep the original comments; each changed value says its old value and the date. "
        "Saved beside the original files, this command runs their simulation, places counted; the reports "
        "come from the simulation: run it here first.",
        "TOML-filerne beholder de oprindelige kommentarer; hver ændret værdi angiver sin gamle værdi og "
        "datoen. Gemt ved siden af de oprindelige filer kører denne kommando deres simulering med pladserne "
        "talt med; rapporterne kommer fra simuleringen: kør den her først.",
    ),
    "reports_need_run": (
        "A pair with places gets its reports from the simulation: run it for these levers first.",
        "Et par med pladser får sine rapporter fra simuleringen: kør den for disse indstillinger først.",
    ),
    "reports_from_run": ("with this simulation's intervals", "med denne simulerings intervaller"),
    "cancelling": ("Cancelling …", "Annullerer …"),
    "fix_fields": (
        "A lever has a value that cannot be used; its field says why. The figures return when it is mended.",
        "En indstilling har en værdi, der ikke kan bruges; feltet siger hvorfor. Tallene vender tilbage, når "
        "den er rettet.",
    ),
    "sim_title": ("The simulation, with intervals", "Simuleringen, med intervaller"),
    "sim_note": (
        "Follows every child through the staircase (discrete-event simulation), at least 10 replications: "
        "where the analytic model solves the pair its means are exact and the replications give the range "
        "of outcomes; otherwise as many run as a precision of 2 % needs, up to 100. The intervals say how precise the "
        "means are and where the outcome may fall by chance.",
        "Følger hvert barn gennem trappen (diskret hændelsessimulering), mindst 10 kørsler: hvor den "
        "analytiske model løser parret, er gennemsnittene eksakte, og kørslerne giver udfaldsrummet; ellers "
        "køres så mange, som en præcision på 2 % kræver, højst 100. Intervallerne siger, hvor præcise gennemsnittene "
        "er, og hvor udfaldet kan falde ved tilfældighed.",
    ),
    "run": ("Run the simulation", "Kør simuleringen"),
    "cancel": ("Cancel", "Annullér"),
    "progress": ("{done} of {planned} replications, {seconds} s", "{done} af {planned} kørsler, {seconds} s"),
    "cancelled": ("Cancelled after {seconds} s.", "Annulleret efter {seconds} s."),
    "failed": ("The simulation failed: {error}", "Simuleringen fejlede: {error}"),
    "sim_done": ("Simulated: {runs}, {seconds} s.", "Simuleret: {runs}, {seconds} s."),
    "busy": (
        "A simulation is already running: wait for it, or cancel it.",
        "En simulering kører allerede: vent på den, eller annullér den.",
    ),
    "no_run": ("That simulation is no longer kept.", "Den simulering gemmes ikke længere."),
    "baseline_unchanged": (
        "No lever changed the baseline: use its own file.",
        "Ingen indstilling har ændret basis: brug dens egen fil.",
    ),
    "download_invalid": (
        "The levers have a value that cannot be used: nothing to download.",
        "En indstilling har en værdi, der ikke kan bruges: intet at hente.",
    ),
}
"""The page's words for its levers and their messages (English, Danish)."""


SCENARIO_DA: tuple[tuple[str, str], ...] = (
    # Validation's messages (English, as the command line writes them) as the Danish page says them.
    (r"^must not be before (.+) (\d+) \(got (\d+)\)$", r"må ikke ligge før \1 \2 (angivet: \3)"),
    (
        r"^must be (\d+) \(fade from the start\) or later \(got (\d+)\)$",
        r"skal være \1 (aftager fra starten) eller senere (angivet: \2)",
    ),
    (
        r"^must be a simulated year, (\d+) to (\d+) \(got (\d+)\)$",
        r"skal være et simuleret år, \1 til \2 (angivet: \3)",
    ),
    (r"^must be at least (\S+) \(got (.+)\)$", r"skal være mindst \1 (angivet: \2)"),
    (r"^must be above (\S+) \(got (.+)\)$", r"skal være over \1 (angivet: \2)"),
    (r"^must be at most (\S+) \(got (.+)\)$", r"må højst være \1 (angivet: \2)"),
    (r"^must be below (\S+) \(got (.+)\)$", r"skal være under \1 (angivet: \2)"),
)
"""Patterns of validation's messages that a lever can cause, and their Danish (tested one by one)."""


def scenario_message(message: str, lang: str) -> str:
    """A message of the scenario's validation in ``lang`` (unchanged if no pattern knows it)."""
    if lang != "da":
        return message
    import re

    for pattern, danish in SCENARIO_DA:
        said, n = re.subn(pattern, danish, message)
        if n:
            return said
    return message


def without_options(note: str) -> str:
    """A note of the command line's without its pointers to options the page has no field for
    ("more replications (--replications) pin them down", "(see trappesim psa)")."""
    import re

    return re.sub(r" \((?:--|see trappesim |se trappesim )[^)]*\)", "", note)


def word(key: str, lang: str, **values: object) -> str:
    """A lever word in ``lang`` (``"da"`` or ``"en"``), placeholders filled."""
    en, da = WORDS[key]
    return (da if lang == "da" else en).format(**values)
