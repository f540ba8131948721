"""Crisis language: intent of self-harm or suicide, threats of violence, abuse (EN, ES).

Phrase patterns over folded text (lower case, no accents), each with its category. What a
decision rests on is returned: every matched phrase, and whether it was negated or about
someone else. The rules fail towards routing:

- a phrase about someone else ("my son said he wanted to die", "mi hermana se quiere
  matar") routes: someone is at risk, and the respondent is asking for help;
- a negated phrase ("I'm not going to hurt myself", "no me voy a matar") does not route on
  its own, but does when the comment also carries distress ("hopeless", "ya no aguanto"),
  when another phrase is not negated, or when it is hedged ("not yet", "todavía no");
- a few figures of speech are set aside by name ("this line is killing me", "me muero de
  hambre", "abuse of power", "abuso de autoridad"); everything else that matches routes.

What it cannot catch: intent said without any of the listed phrases ("I've given away my
things"), misspellings beyond the ones listed, sarcasm, and languages other than English and
Spanish. docs/comments.md lists the figures measured on the evaluation set.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from dataclasses import dataclass
from typing import Any, Literal

from gateway.comments.text import alternation

Category = Literal["self_harm", "violence", "abuse"]

_PEOPLE = (
    r"(?:him|her|them|you|y'?all|you all|everyone|everybody|somebody|someone|people|"
    r"those (?:people|idiots|clerks|workers)|whoever|all of (?:you|them)|"
    r"(?:the|that|this|your|those) (?:clerk|lady|guy|man|woman|staff|agent|employee|officer|"
    r"supervisor|manager|worker|receptionist|security guard|guard|person|rep|caseworker)s?)"
)
_PERSONAS = (
    r"(?:a\s+)?(?:alguien|todos|todas|ese|esa|esos|esas|ustedes|la senora|el senor|"
    r"la empleada|el empleado|los empleados|las empleadas|el guardia|la cajera|el cajero|"
    r"el agente|la agente|la trabajadora|el trabajador|esa vieja|ese tipo|esa senora)"
)
_RELATIVES = (
    r"(?:husband|wife|boyfriend|girlfriend|partner|ex|dad|father|mom|mother|son|daughter|"
    r"stepdad|stepfather|stepmom|caregiver|uncle|brother|sister|roommate|landlord|fiance)"
)
_PARIENTES = (
    r"(?:esposo|esposa|marido|mujer|novio|novia|pareja|ex|papa|padre|mama|madre|hijo|hija|"
    r"padrastro|madrastra|tio|hermano|hermana|cunado|suegro|suegra)"
)

# (category, about someone else, pattern)
_RULES: tuple[tuple[Category, bool, str], ...] = (
    # ---- self-harm, English
    (
        "self_harm",
        False,
        (
            r"\b(?:kill(?:ing)?|hurt(?:ing)?|harm(?:ing)?|cut(?:ting)?|hang(?:ing)?|shoot(?:in"
            r"g)?|drown(?:ing)?|poison(?:ing)?|off|end(?:ing)?)\s+myself\b"
        ),
    ),
    ("self_harm", False, r"\bend(?:ing)?\s+(?:my\s+(?:own\s+)?life|it\s+all|things|everything)\b"),
    ("self_harm", False, r"\btake\s+my\s+(?:own\s+)?life\b"),
    ("self_harm", False, r"\bsuicid(?:al|e\s+(?:plan|note|attempt|thoughts?))\b"),
    (
        "self_harm",
        False,
        r"\b(?:commit|attempt(?:ed)?|thinking (?:about|of)|think about|considering)\s+suicide\b",
    ),
    (
        "self_harm",
        False,
        (
            r"\b(?:i|i'?m|im|i am)\s+(?:\w+\s+){0,2}(?:want(?:ed)?|wanna|ready|going|gonna|pla"
            r"nning|wish(?:ed)?|hoping)\s+(?:to\s+)?(?:die|be dead|not wake up|not be here"
            r"|disappear forever)\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\b(?:don'?t|do not|no longer|dont)\s+want\s+to\s+(?:live|be alive|be here anymor"
            r"e|wake up|exist)\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\bbetter off (?:dead|without me)\b"
            r"|\b(?:no|the) (?:reason|point) (?:to|in|of) (?:keep )?(?:live|living|going on)\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\b(?:don'?t|dont|do not|can'?t|cannot|no longer) see (?:the|any) (?:point|reason"
            r") (?:in|to|of) (?:living|life|live|going on)\b|\bno (?:le )?(?:veo|encuentro"
            r"|tiene) (?:ningun )?sentido (?:a|de|en) (?:la vida|vivir|seguir)\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\b(?:i'?ll|i will|gonna|going to) end it\b|\bif i (?:was|were) gone\b"
            r"|\bif i (?:wasn'?t|weren'?t) (?:here|around|alive)\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\b(?:not sure|don'?t know if|dont know if|no longer sure) (?:i )?(?:want to|can)"
            r" (?:live|keep living|go on)\b|\bpills? saved\b|\bsaved up (?:my )?pills\b"
            r"|\bstockpiling (?:pills|meds)\b"
        ),
    ),
    (
        "self_harm",
        False,
        r"\bwish i (?:was|were) dead\b|\boverdos(?:e|ing)\b|\bsuicide (?:hotline|line)\b|\b988\b",
    ),
    (
        "self_harm",
        False,
        (
            r"\bcan'?t (?:go on|keep going) (?:like this|anymore|living)\b"
            r"|\bi have nothing (?:left )?to live for\b"
        ),
    ),
    (
        "self_harm",
        False,
        r"\bpills? (?:and|to) end\b|\b(?:buy|bought|get|got) a gun (?:for|to use on) myself\b",
    ),
    # ---- self-harm, Spanish
    ("self_harm", False, r"\b(?:matarme|suicidarme|ahorcarme|lastimarme|envenenarme|colgarme)\b"),
    (
        "self_harm",
        False,
        (
            r"\b(?:never|not) (?:to )?wake up\b|\bno despertar(?:me)? (?:nunca|mas|jamas)\b"
            r"|\bnunca (?:mas )?despertar\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\b(?:me quito|quitarme|quitare|quitar|quitaria)\s+la\s+vida\b|\bhacerme dano\b"
            r"|\bcortarme las venas\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\bme\s+(?:voy a|quiero|quisiera|dan ganas de|gustaria)\s+(?:matar|suicidar|morir"
            r"|quitar la vida|colgar|aventar|tirar)\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\b(?:quiero|quisiera|queria|ganas de)\s+morir(?:me)?\b"
            r"|\b(?:quiero|quisiera|queria|prefiero) estar muert[oa]\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\bme (?:voy a|quiero|puedo) hacer dano\b|\bme voy a (?:pegar|dar) un tiro\b"
            r"|\b(?:pegarme|darme) un tiro\b|\b(?:mejor|ya|que|y) me mato\b"
            r"|\bsi yo no estuviera\b|\bestarian mejor sin mi\b"
            r"|\bsentido (?:a|de|en) (?:la vida|vivir|seguir)\b"
            r"|\bno se si quiero (?:seguir )?(?:vivir|viviendo)\b"
        ),
    ),
    (
        "self_harm",
        False,
        r"\b(?:ya )?no quiero (?:vivir|seguir viviendo|seguir aqui|despertar|existir)\b",
    ),
    (
        "self_harm",
        False,
        (
            r"\bacabar con (?:mi vida|todo)\b|\bterminar con mi vida\b"
            r"|\bsuicid(?:a|as|arme)\b"
            r"|\b(?:pienso|pensando|pense|intento|intente) (?:en )?(?:el )?suicid(?:io|arme)\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\bmejor (?:estaria |estar )?muert[oa]\b|\bno vale la pena vivir\b"
            r"|\bsin (?:razon|motivo)(?:es)? para vivir\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\bsobredosis\b|\bpastillas para (?:morir|acabar)\b"
            r"|\btirarme (?:de|del|al|a las vias|por)\b|\baventarme\b"
        ),
    ),
    # ---- warning signs suicide prevention training lists, EN and ES
    (
        "self_harm",
        False,
        (
            r"\b(?:tired|sick) of (?:being alive|living|life)\b"
            r"|\bcansad[oa] de (?:estar viv[oa]|vivir|la vida)\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\bgiv(?:e|ing|en) away (?:my|all my) (?:stuff|things|belongings|possessions)\b"
            r"|\bregal(?:ando|e|o) (?:mis|todas mis) cosas\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\bwon'?t (?:need|be needing) (?:it|them|anything) (?:much )?(?:longer|anymore)\b"
            r"|\bno (?:las|los|lo|la) voy a necesitar\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\b(?:have|got) a plan and the means\b|\b(?:have|got|made) a plan to\b"
            r"|\btengo un plan\b|\bcon que hacerlo\b"
        ),
    ),
    (
        "self_harm",
        False,
        (
            r"\b(?:sleep|asleep) forever\b|\bdormir(?:me)? para siempre\b|\bnot be a burden\b"
            r"|\bser una carga\b"
        ),
    ),
    (
        "self_harm",
        False,
        r"\bsay(?:ing)? goodbye\b|\bdespedirme\b|\bcan'?t keep going\b|\bno puedo seguir asi\b",
    ),
    # ---- self-harm, someone else
    (
        "self_harm",
        True,
        (
            r"\b(?:kill(?:s|ing|ed)?|hurt(?:s|ing)?|harm(?:s|ing|ed)?|cut(?:s|ting)?|hang(?:s|"
            r"ing|ed)?|shoot(?:s|ing)?)\s+(?:himself|herself|themselves|themself)\b"
        ),
    ),
    (
        "self_harm",
        True,
        (
            r"\b(?:he|she|they|son|daughter|husband|wife|mom|dad|brother|sister|friend|vet|vet"
            r"eran)\s+(?:\w+\s+){0,3}(?:wants?|wanted|going|gonna|plans?|planning|tried"
            r"|threaten(?:s|ed|ing)?)\s+to\s+(?:die|end (?:his|her|their) life"
            r"|take (?:his|her|their) (?:own )?life|commit suicide)\b"
        ),
    ),
    (
        "self_harm",
        True,
        (
            r"\b(?:matarse|suicidarse|ahorcarse|quitarse la vida)\b"
            r"|\bse\s+(?:quiere|va a|queria|iba a|quiso|intento)\s+(?:matar|suicidar|morir|qui"
            r"tar la vida|pegar un tiro|dar un tiro|ahorcar)\b|\bquiere morirse\b"
        ),
    ),
    # ---- violence, English
    (
        "violence",
        False,
        rf"\b(?:kill|shoot|stab|strangle|murder|beat up|choke|punch|attack|hurt)\s+{_PEOPLE}\b",
    ),
    ("violence", False, rf"\b(?:beat|knock|punch)\s+{_PEOPLE}\s+(?:up|out|senseless)\b"),
    (
        "violence",
        False,
        (
            r"\b(?:bring|brought|bringing|get|grab|got|come back with)\s+(?:a|my|the)\s+(?:gun"
            r"|rifle|knife|weapon|pistol|ar-?15|shotgun)\b"
        ),
    ),
    (
        "violence",
        False,
        (
            r"\bshoot (?:up )?(?:the|this|that|your) (?:place|office|building)\b"
            r"|\bshoot (?:the place|it) up\b"
            r"|\bblow up (?:the|your|this|that) (?:office|building|place)\b"
        ),
    ),
    (
        "violence",
        False,
        (
            r"\b(?:burn|torch) (?:the|this|your|that) (?:office|building|place)(?: down)?\b"
            r"|\bgo(?:ing|in)? postal\b|\b(?:bomb threat|plant a bomb)\b"
            r"|\ba bomb (?:in|at) (?:the|your|this) (?:office|building)\b"
        ),
    ),
    (
        "violence",
        False,
        (
            r"\bsomeone(?:'s| is)? (?:gonna|going to) get (?:hurt|shot|killed)\b"
            r"|\b(?:i'?ll|i will|gonna|going to) (?:hurt|kill|shoot|stab) (?:somebody|someone|"
            r"people|everyone)\b"
        ),
    ),
    # ---- violence, Spanish
    (
        "violence",
        False,
        (
            rf"\b(?:matar|balacear|apunalar|golpear|madrear|pegarle a|partirle la cara a|ahorca"
            rf"r|lastimar|herir)\s+{_PERSONAS}\b"
        ),
    ),
    (
        "violence",
        False,
        (
            r"\b(?:los|las|la|lo|te|les)\s+(?:voy a|vamos a|quiero|dan ganas de)\s+(?:matar|ba"
            r"lacear|golpear|madrear|partir la madre|apunalar)\b|\b(?:matarlos|matarlas"
            r"|matarla|matarlo|balacearlos)\b"
        ),
    ),
    (
        "violence",
        False,
        (
            r"\b(?:traer|llevar|traigo|llevo|voy a traer|vengo con)\s+(?:un|una|mi|el|la)\s+(?"
            r":arma|pistola|cuchillo|rifle|navaja|escopeta)\b"
        ),
    ),
    (
        "violence",
        False,
        (
            r"\bvolar (?:la|esta|esa) oficina\b|\bvolar (?:el|este|ese) edificio\b"
            r"|\bponer una bomba\b|\bamenaza de bomba\b|\bquemar (?:la|esta|esa) oficina\b"
            r"|\bpegarle un tiro\b|\bdarle(?:s)? (?:un tiro|de balazos)\b"
        ),
    ),
    ("violence", False, r"\bbalacear\b|\bbalacera\b"),
    (
        "violence",
        False,
        (
            r"\bwon'?t see (?:me|it) coming\b|\bno (?:me|lo) va(?:n)? a ver venir\b"
            r"|\b(?:my|the) piece\b|\bel fierro\b|\bwatch (?:your|his|her) back\b"
        ),
    ),
    (
        "violence",
        False,
        r"\balguien va a salir (?:herido|lastimado|muerto)\b|\bvoy a (?:matar|lastimar) a\b",
    ),
    # ---- abuse, English
    (
        "abuse",
        False,
        (
            rf"\b(?:he|she|they|my {_RELATIVES}|my {_RELATIVES}'s \w+)\s+(?:\w+\s+){{0,2}}(?:hi"
            rf"ts?|hitting|beats?|beating|chokes?|choked|choking|kicks?|kicked|punch(?:es|ed)?"
            rf"|slaps?|slapped|abuses?|abused|abusing|rapes?|raped|threatens?|threatened"
            rf"|locks? me|locked me|touch(?:es|ed) me|hurts? me|hurt me)\s*(?:me|us|my"
            rf"|the kids|our|when|if|every|again|all)?\b"
        ),
    ),
    (
        "abuse",
        False,
        (
            r"\b(?:being|been|was|am|im|i'?m|getting|got)\s+(?:abused|beaten|raped|molested|se"
            r"xually assaulted|assaulted|trafficked)\b"
        ),
    ),
    (
        "abuse",
        False,
        (
            r"\bdomestic (?:violence|abuse)\b"
            r"|\b(?:afraid|scared|fear) (?:of|for) my (?:life|safety)\b"
            r"|\b(?:afraid|scared) to go home\b|\bnot safe at home\b"
        ),
    ),
    (
        "abuse",
        False,
        (
            r"\b(?:child|elder|sexual) abuse\b"
            r"|\b(?:abus(?:e|es|ed|ing)|neglect(?:s|ed|ing)?)\s+(?:my|the|a|his|her)\s+(?:chil"
            r"d|children|kids?|son|daughter|mother|mom|father|dad|grandma|grandmother|grandpa"
            r"|baby)\b"
        ),
    ),
    (
        "abuse",
        False,
        rf"\b(?:afraid|scared|terrified) of my {_RELATIVES}\b|\b(?:protective|restraining) order\b",
    ),
    # ---- abuse, Spanish
    (
        "abuse",
        False,
        (
            r"\b(?:me|nos)\s+(?:pega|pegaba|golpea|golpeo|golpeaba|maltrata|maltrato|maltratab"
            r"a|viola|violo|abusa|abuso|abusaba|ahorca|ahorco|patea|pateo|encierra|encerro"
            r"|lastima)\b"
        ),
    ),
    (
        "abuse",
        False,
        (
            r"\babus(?:a|o|an|aron|ando|aba)\s+de\s+(?:mi|nosotros|mis hij[oa]s|mi hij[oa]|la "
            r"nina|el nino|los ninos|mi mama|mi abuel[oa])\b|\babuso sexual\b"
        ),
    ),
    (
        "abuse",
        False,
        (
            rf"\bviolencia (?:domestica|familiar|intrafamiliar)\b"
            rf"|\b(?:miedo|terror)\s+(?:de|a)\s+mi\s+{_PARIENTES}\b"
            rf"|\bmiedo de (?:regresar|volver|ir) a (?:mi )?casa\b"
        ),
    ),
    (
        "abuse",
        False,
        (
            r"\b(?:temo|miedo|tengo miedo) por mi vida\b"
            r"|\bno estoy segur[oa] en (?:mi )?casa\b"
            r"|\borden de (?:proteccion|restriccion|alejamiento)\b"
            r"|\bmaltrato (?:infantil|a (?:mi|mis|los))\b"
        ),
    ),
    (
        "abuse",
        True,
        (
            r"\b(?:maltrat(?:a|an|o|aba|aban)|golpea|golpeaba|pega|pegaba|abusa de)\s+a\s+(?:s"
            r"u|sus|mi|mis|la|el|los)\b|\b(?:le|les) (?:pega|pegaba|golpea"
            r"|golpeaba)\b|\babuso (?:de ancianos|infantil|de menores)\b"
        ),
    ),
    (
        "abuse",
        False,
        (
            rf"\bmi\s+{_PARIENTES}\s+(?:\w+\s+){{0,2}}(?:me|nos)\s+(?:pega|golpea|maltrata|amen"
            rf"aza|amenazo|lastima)\b"
        ),
    ),
)

# Figures of speech that match a rule above but are not crisis language.
_FIGURES = re.compile(
    r"\bdie of (?:embarrassment|boredom|laughter|shame)\b"
    r"|\b(?:dying|die) (?:to|for) (?:a|an|get|see|know)\b"
    r"|\bmorir(?:me)? de (?:la )?(?:risa|verguenza|pena|hambre|sueno|calor|frio|aburrimien"
    r"to|coraje)\b"
    r"|\babuse of (?:power|authority|discretion|the system|process)\b"
    r"|\babuso de (?:autoridad|poder|confianza)\b"
    r"|\babus(?:ed|es|ing)? (?:his|her|their|its|the) (?:authority|power|position|discretion)\b"
    r"|\bkill (?:them|you) with kindness\b|\bbomb(?:ed)? (?:the|my|that) (?:test|exam|interview)\b"
    r"|\bda-?bomb\b|\bphotobomb"
    r"|\b(?:is|are|was|were|it'?s|its) killing (?:me|us)\b|\bkill(?:s|ed|ing)? (?:time|it)\b"
    r"|\bkill for\b"
    r"|\b(?:nearly|almost) died\b|\b(?:die|died|dying) of\b|\bmorir(?:me)? de viej[oa]\b"
    r"|\bdead (?:tired|battery|end|line)\b|\bdeadline\b"
    r"|\b(?:phone|battery|car|computer|site|website|line) (?:died|is dead|was dead|went dead)\b"
    r"|\bme (?:esta|estan) matando\b|\bme mata\b|\bcasi me muero\b|\bme muero de\b|\bde muerte\b"
    r"|\b(?:wake up|despertar) (?:early|temprano|at|a las)\b"
)
_NEGATORS = re.compile(
    r"\b(?:not|never|no|nunca|jamas|ni|don'?t|didn'?t|won'?t|wouldn'?t|isn'?t|wasn'?t|"
    r"aren'?t|ain'?t|dont|didnt|wont|wouldnt|nor|not going to|no pienso|no voy a)\b"
)
_HEDGES = re.compile(
    r"\b(?:not sure|no se si|don'?t know if|dont know if|not yet|todavia no|aun no|"
    r"for now|por ahora|but i (?:think|might|could)|pero (?:a veces|lo pienso|quisiera))\b"
)
_DISTRESS = re.compile(
    r"\bhopeless\b|\bworthless\b|\bgive up\b|\bgiving up\b"
    r"|\bcan'?t (?:take|do) (?:it|this) anymore\b"
    r"|\bno one cares\b|\bnobody cares\b|\bnothing left\b|\bsin esperanza\b"
    r"|\bya no (?:aguanto|puedo mas)\b"
    r"|\bno puedo mas\b|\bdesesperad[oa]\b|\ba nadie le importo\b|\bme quiero rendir\b|\bme rindo\b"
    r"|\bno le importo a nadie\b|\bhe pensado en\b|\bi(?:'ve| have) thought about\b"
    r"|\bsometimes i think\b"
    r"|\ba veces pienso\b|\bcan'?t go on\b|\bexhausted of living\b|\bcansad[oa] de vivir\b"
)
# The backstop, for what no phrase above foresaw. A word of death, weapons or violence
# routes wherever it stands, unless negated or a figure of speech listed above: a
# missed crisis costs more than a false alarm, and staff see that only a word matched.
# Words that are also everyday speech ("die", "dead", "end", "morir") route only in a
# clause that speaks in the first person or of intent.
_HARM_ALWAYS = re.compile(
    r"\b(?:suicid\w*|overdos\w*|sobredosis|kill\w*|murder\w*|mat(?:ar|arme|arla|arlo|arlos|o)\b"
    r"|asesin\w*|gun|guns|pistol|pistola|rifle|escopeta|weapon|arma|knife|cuchillo|navaja"
    r"|stab\w*|apunal\w*|shoot\w*|shot|balazo\w*|balace\w*|un tiro|noose"
    r"|hang (?:myself|himself|herself)"
    r"|jump(?:ing)? (?:off|from|in front)|tirarme|aventarme"
    r"|abus(?:e|ed|es|ing|ive|o|a|an|ando|ivo|iva)"
    r"|rape\w*|violad\w*|molest(?:ed|ing|er|s)|punch\w*|slap\w*|cachetad\w*|golpe\w*"
    r"|beat(?:s|ing)? (?:me|her|him|us)"
    r"|hits? (?:me|her|him|us)|me pega|le pega|chok(?:e|ed|es|ing) (?:me|her|him)"
    r"|me ahorc\w*|ahorco|hurts? me|me hace dano|threat\w*|amenaz\w*|better watch out"
    r"|que se cuide"
    r"|know where (?:he|she|they|you) (?:park|parks|live|lives)|se donde (?:vive|estaciona|viven)"
    r"|(?:wrote|written|left) (?:a|my) (?:note|letter)|carta (?:de despedida|a mis hijos)"
    r"|last (?:try|attempt|hope)|ultimo intento|ultima esperanza)\b"
)
_HARM_WITH_INTENT = re.compile(
    r"\b(?:die|dying|dead|death|end (?:it|things|everything|my life)|pills|wake up|be gone"
    r"|gone forever"
    r"|not be (?:here|around)|alive|morir\w*|muriera|muert[oa]s?|acabar con|despertar|desaparecer"
    r"|pastillas|puente|bridge|hurt|lastim\w*)\b"
)
_FIRST_PERSON = re.compile(r"\b(?:i|i'?m|im|i'?d|i'?ll|me|my|myself|yo|mi|conmigo)\b")
_INTENT = re.compile(
    r"\b(?:want|wanna|going to|gonna|will|should|think|thinking|thought|plan|planning|ready"
    r"|wish|rather|better off|anymore|quiero|quisiera|voy a|pienso|pensando|pense|mejor"
    r"|ganas|ya no|prefiero|deberia|preferiria|nobody|nadie|tonight|esta noche)\b|'ll\b"
)
_CLAUSE_BREAK = re.compile(r"[.;!?\n]|,\s|\bbut\b|\bpero\b|\bbecause\b|\bporque\b")
_COMPILED = tuple((category, other, re.compile(pattern)) for category, other, pattern in _RULES)


def _literal_runs(items: list[tuple[Any, Any]]) -> list[str]:
    """The runs of literal characters every match of ``items`` (a parsed sequence) holds."""
    runs, current = [], ""
    for op, arg in items:
        if op is sre_constants.LITERAL:
            current += chr(arg)
            continue
        if op is sre_constants.AT:  # \b and the like consume nothing
            continue
        if current:
            runs.append(current)
        current = ""
        if op is sre_constants.SUBPATTERN:
            runs.extend(_literal_runs(list(arg[-1])))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and arg[0] >= 1:
            runs.extend(_literal_runs(list(arg[2])))
        elif op is sre_constants.BRANCH:
            each = [_anchor(list(branch)) for branch in arg[1]]
            if all(each):
                runs.append("\0".join(a for a in each if a))  # one of them, at least
    if current:
        runs.append(current)
    return runs


def _anchor(items: list[tuple[Any, Any]]) -> str | None:
    """The longest literal run every match holds (alternatives joined by NUL), if any."""
    runs = [run for run in _literal_runs(items) if "\0" in run or len(run) >= 3]
    return max(runs, key=lambda run: min(len(part) for part in run.split("\0"))) if runs else None


def _anchors(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Substrings one of which every match of ``pattern`` contains; None when none is
    known (the rule is then always tried)."""
    anchor = _anchor(list(sre_parse.parse(pattern.pattern)))
    return tuple(anchor.split("\0")) if anchor else None


# Most comments hold none of the rules' literal words: one scan for any of them says
# which rules can match at all, so the others are not tried. Exact: a rule is skipped
# only when a substring every one of its matches contains is absent.
_RULE_ANCHORS = tuple(_anchors(pattern) for _, _, pattern in _COMPILED)
_ANY_ANCHOR = re.compile(alternation({a for anchors in _RULE_ANCHORS if anchors for a in anchors}))
assert all(_RULE_ANCHORS), "every rule has a literal anchor (else drop the one-scan skip)"


@dataclass(frozen=True, slots=True)
class CrisisReason:
    category: Category
    #: The words of the comment (folded) that matched.
    phrase: str
    negated: bool = False
    about_someone_else: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "phrase": self.phrase,
            "negated": self.negated,
            "about_someone_else": self.about_someone_else,
        }


@dataclass(frozen=True, slots=True)
class CrisisReading:
    #: The comment is to be routed to the agency's crisis route.
    route: bool
    reasons: tuple[CrisisReason, ...] = ()
    #: Distress words that turned a negated phrase into a routed one.
    distress: tuple[str, ...] = ()

    @property
    def categories(self) -> tuple[Category, ...]:
        return tuple(dict.fromkeys(r.category for r in self.reasons if self.route))

    def explain(self) -> str:
        """One line for staff: why the comment was (or was not) routed."""
        if not self.reasons:
            return "no crisis phrase"
        parts = []
        for reason in self.reasons:
            notes = [
                n
                for n, on in (
                    ("negated", reason.negated),
                    ("about someone else", reason.about_someone_else),
                )
                if on
            ]
            tail = f" ({', '.join(notes)})" if notes else ""
            parts.append(f'{reason.category}: "{reason.phrase}"{tail}')
        if self.distress:
            parts.append("distress: " + ", ".join(f'"{d}"' for d in self.distress))
        return "; ".join(parts)


def read_crisis(folded: str) -> CrisisReading:
    """Whether ``folded`` text (:func:`gateway.comments.text.fold`) is crisis language."""
    reasons: list[CrisisReason] = []
    figures = [m.span() for m in _FIGURES.finditer(folded)]
    candidates = _COMPILED if _ANY_ANCHOR.search(folded) else ()
    for index, (category, other, pattern) in enumerate(candidates):
        anchors = _RULE_ANCHORS[index]
        if anchors is not None and not any(anchor in folded for anchor in anchors):
            continue
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(s <= start < e or start <= s < end for s, e in figures):
                continue
            reasons.append(
                CrisisReason(category, match.group(0).strip(), _negated(folded, start), other)
            )
    if not reasons:
        reasons = _backstop(folded, figures)
    if not reasons:
        return CrisisReading(False)
    reasons = _dedupe(reasons)
    if any(not r.negated for r in reasons):
        return CrisisReading(True, tuple(reasons))
    distress = tuple(m.group(0) for m in _DISTRESS.finditer(folded))
    hedged = tuple(m.group(0) for m in _HEDGES.finditer(folded))
    if distress or hedged:
        return CrisisReading(True, tuple(reasons), distress + hedged)
    return CrisisReading(False, tuple(reasons))


def _backstop(folded: str, figures: list[tuple[int, int]]) -> list[CrisisReason]:
    found: list[CrisisReason] = []
    at = 0
    for clause in _CLAUSE_BREAK.split(folded):
        start = folded.find(clause, at)
        at = start + len(clause)
        matches = list(_HARM_ALWAYS.finditer(clause))
        if _FIRST_PERSON.search(clause) or _INTENT.search(clause):
            matches += _HARM_WITH_INTENT.finditer(clause)
        for match in matches:
            where = start + match.start()
            if any(s <= where < e for s, e in figures) or _negated(folded, where):
                continue
            found.append(CrisisReason(_category(match.group(0)), f"word: {match.group(0)}"))
            break
    return found


def _category(word: str) -> Category:
    if _ABUSE_WORDS.match(word):
        return "abuse"
    if _VIOLENCE_WORDS.match(word):
        return "violence"
    return "self_harm"


_ABUSE_WORDS = re.compile(
    r"abus|rape|violad|molest|punch|slap|cachetad|golpe|beat|hit|me pega|le pega"
)
_VIOLENCE_WORDS = re.compile(
    r"murder|asesin|gun|pistol|rifle|escopeta|weapon|arma|knife|cuchillo|navaja|stab|apunal|shoot"
    r"|shot|balaz|balace|threat|amenaz|better watch|que se cuide|know where|se donde"
)


def _negated(folded: str, start: int) -> bool:
    """A negator governs the phrase: it stands in the same clause, among the three words
    right before ``start`` ("not going to", "no me voy a", "never would"). A negation
    further back belongs to another verb ("if the check doesn't come I'll end it")."""
    before = folded[max(0, start - 60) : start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    if breaks:
        before = before[breaks[-1].end() :]
    words = before.split()[-3:]
    window = " ".join(words)
    if _HEDGES.search(window):
        return False
    return _NEGATORS.search(window) is not None


def _dedupe(reasons: list[CrisisReason]) -> list[CrisisReason]:
    seen: dict[tuple[str, str], CrisisReason] = {}
    for reason in reasons:
        seen.setdefault((reason.category, reason.phrase), reason)
    return list(seen.values())
