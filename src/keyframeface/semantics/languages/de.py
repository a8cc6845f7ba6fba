"""German: facial actions, parts, intensity, negation and sides (patterns over folded text: ä -> a, ß -> ss).

Separable verbs are read as a verb plus its particle wherever the particle stands ("zieht die Augenbrauen
hoch": ``zieh`` = pull, ``hoch`` = up -> raise the brows; "kneift die Augen zusammen" -> narrow). Compounds are
matched whole before their parts (``augenbraue`` before ``auge``, ``mundwinkel`` before ``mund``); stems cover
the endings (``lachel\\w*``: lächelt, lächelnd, Lächeln). ``nicht``/``kein`` negate the action before them in
their clause ("sie lacht nicht"), else the next one ("ohne zu lächeln" also reads as not).
"""

from __future__ import annotations

from .frames import LanguageLexicon

__all__ = ["LEXICON"]

LEXICON = LanguageLexicon(
    code="de", name="German", order="vo",
    stopwords=frozenset(["der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "und", "oder", "mit", "nach", "von", "zu", "zum", "zur", "auf", "aus", "sie", "er", "es", "ihr", "ihre", "ihren", "sein", "seine", "seinen", "ist", "sind", "sehr", "aber", "ohne", "nicht", "kein", "keine", "sich", "wahrend"]),
    letters="äöüß",
    entries=(
        (r"lachel\w*|(?:ge)?lacheln|schmunzel\w*|grins\w*", "act", "smile"),
        (r"lacht?\w*|gelacht|bricht in gelachter aus|lachend", "act", "laugh"),
        (r"wein\w*|schluchz\w*|trane\w*|heul\w*", "act", "cry"),
        (r"runzel\w*|(?:die )?stirn (?:in falten|kraus)|stirnrunzel\w*|finster", "act", "frown"),
        (r"zwinker\w*|(?:ge)?zwinkert", "act", "wink"),
        (r"blinzel\w*", "act", "blink"),
        (r"nick\w*", "act", "nod"),
        (r"schuttel\w*", "verb", "shake"),
        (r"schmoll\w*", "act", "pout"),
        (r"gahn\w*", "act", "yawn"),
        (r"seufz\w*", "act", "sigh"),
        (r"schrei\w*|brull\w*", "act", "scream"),
        (r"grimass\w*", "act", "grimace"),
        (r"aufgerissen\w*|reisst die augen auf|weit aufgerissen\w*|mit grossen augen|grosse augen", "act", "eyes_wide"),
        (r"schau\w*|blick\w*|guck\w*|sieht|sehen|sah|starr\w*", "act", "look"),
        (r"ausdruckslos\w*|pokerface|neutral\w*", "act", "neutral"),
        (r"(?:ge)?offne\w*|offen\w*|aufgemacht|aufreiss\w*|reiss\w*", "verb", "open"),
        (r"schliess\w*|geschlossen\w*|schloss|zugemacht|zumach\w*", "verb", "close"),
        (r"heb\w*|hob\w*|gehoben\w*|hochgezogen\w*", "verb", "raise"),
        (r"(?:ge)?zog\w*|zieh\w*|zieht", "verb", "pull"),
        (r"senk\w*|(?:nieder)?schlag\w*|gesenkt\w*", "verb", "lower"),
        (r"press\w*|gepresst\w*", "verb", "press"),
        (r"(?:zusammen)?(?:ge)?kniff\w*|(?:zusammen)?kneif\w*|(?:ge)?kneift", "verb", "squeeze"),
        (r"verengt?\w*|schmal", "verb", "narrow"),
        (r"dreh\w*|wend\w*|wandt\w*", "verb", "turn"),
        (r"neig\w*|(?:schief|schrag)(?:legt|gelegt|halt|gehalten)|leg\w* den kopf schief", "verb", "tilt"),
        (r"beiss\w*|biss", "verb", "bite"),
        (r"blas\w*|blaht\w*", "verb", "puff"),
        (r"streck\w* die zunge (?:heraus|raus)", "act", "tongue_out"),
        (r"augenbrauen|brauen", "part", "brows"),
        (r"augenbraue|braue", "part", "brow"),
        (r"mundwinkel(?:n)?", "part", "corners"),
        (r"augen", "part", "eyes"),
        (r"auge", "part", "eye"),
        (r"mund|kiefer", "part", "mouth"),
        (r"lippen?", "part", "lips"),
        (r"kopf", "part", "head"),
        (r"stirn", "part", "forehead"),
        (r"blick", "part", "gaze"),
        (r"kinn", "part", "chin"),
        (r"nase", "part", "nose"),
        (r"wangen|backen", "part", "cheeks"),
        (r"zahne|zahnen", "part", "teeth"),
        (r"nicht mehr|kein\w* mehr|hort auf zu|aufhor\w*", "stop", "stop"),
        (r"nicht|kein\w*|nie|niemals", "negclause", "not"),
        (r"ohne", "neg", "not"),
        (r"immer noch|noch immer|weiterhin|noch", "keep", "keep"),
        (r"kaum|andeutungsweise", "int", "trace"),
        (r"leicht\w*|ein wenig|ein bisschen|etwas|sanft\w*|schwach\w*|zaghaft\w*", "int", "slight"),
        (r"sehr|stark\w*|fest\w*|breit\w*|weit|ganz|voll\w*|kraftig\w*|heftig\w*|bitterlich\w*|laut\w*|"
         r"ubers ganze gesicht", "int", "strong"),
        (r"link\w*", "lr", "left"),
        (r"recht\w*", "lr", "right"),
        (r"(?:nach )?oben|hoch|empor|aufwarts|zur decke|zum himmel", "dir", "up"),
        (r"(?:nach )?unten|herab|herunter|abwarts|nieder|zu boden", "dir", "down"),
        (r"zusammen|aufeinander", "dir", "together"),
        (r"geradeaus|nach vorne", "dir", "ahead"),
        (r"aber|sondern|dann|wahrend|doch|jedoch", "sep", "but"),
        (r"und", "and", "and"),
        (r"uberrascht\w*|erstaunt\w*|verblufft\w*|uberraschung", "emo", "surprised"),
        (r"freude|froh\w*|glucklich\w*|frohlich\w*", "emo", "happy"),
        (r"traurig\w*|trauer", "emo", "sad"),
        (r"wut\w*|wutend\w*|zornig\w*|verargert\w*|arger\w*", "emo", "angry"),
        (r"angst\w*|angstlich\w*|erschrocken\w*|verangstigt\w*", "emo", "afraid"),
        (r"ekel\w*|angewidert\w*", "emo", "disgusted"),
        (r"besorgt\w*|sorge\w*", "emo", "worried"),
        (r"misstrauisch\w*", "emo", "suspicious"),
    ),
)
