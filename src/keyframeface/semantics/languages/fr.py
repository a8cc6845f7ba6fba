"""French: facial actions, parts, intensity, negation and sides (patterns over accent-folded text).

Elision is folded into the patterns (``l'oeil``, ``d'oeil``, ``n'``); verbs and adjectives by stem, so agreement
and tense read alike (``fronc\\w*``: fronce, froncé, froncent, froncement). Negation ``ne ... pas/plus/jamais``:
``ne``/``n'`` scopes the next action (``ne ... plus`` = no longer), ``sans`` too.
"""

from __future__ import annotations

from .frames import LanguageLexicon

__all__ = ["LEXICON"]

LEXICON = LanguageLexicon(
    code="fr", name="French", order="vo",
    stopwords=frozenset(["le", "la", "les", "un", "une", "des", "et", "ou", "de", "du", "au", "aux", "avec", "pour", "par", "sur", "son", "sa", "ses", "se", "il", "elle", "ils", "elles", "est", "sont", "tres", "mais", "sans", "vers", "pendant", "que", "qui", "ne", "pas", "plus", "l", "d", "n", "s"]),
    letters="çœèêàùâîôûë",
    entries=(
        (r"souri\w*|sourire\w*", "act", "smile"),
        (r"eclat\w* de rire|rit|rient|rire\w*|riant|rigol\w*|(?:un )?fou rire", "act", "laugh"),
        (r"pleur\w*|sanglot\w*|larmes?", "act", "cry"),
        (r"fronc\w*(?: (?:les|des) sourcils)?|(?:les )?sourcils fronces", "act", "frown"),
        (r"(?:fait |faire )?un clin d'oeil|clign\w* de l'oeil|clin d'oeil", "act", "wink"),
        (r"cligne\w*|battre des paupieres|bat des paupieres", "act", "blink"),
        (r"hoch\w*(?: la tete)?|acquiesc\w*", "act", "nod"),
        (r"secou\w* la tete|(?:fait|faire) non de la tete", "act", "headshake"),
        (r"(?:fait |faire )?la moue|boud\w*", "act", "pout"),
        (r"baill\w*", "act", "yawn"),
        (r"soupir\w*", "act", "sigh"),
        (r"cri\w*|hurl\w*", "act", "scream"),
        (r"grimac\w*", "act", "grimace"),
        (r"ecarquill\w*|yeux ronds|les yeux grands ouverts", "act", "eyes_wide"),
        (r"pliss\w*", "verb", "narrow"),
        (r"bouche bee", "act", "jaw_drop"),
        (r"pench\w*|inclin\w*", "verb", "tilt"),
        (r"regard(?!s?\b)\w*|fix\w*|jet\w* un coup d'oeil", "act", "look"),
        (r"baiss\w* la tete|tete baissee", "act", "head_down"),
        (r"impassible|inexpressi\w*", "act", "neutral"),
        (r"ouvr\w*|ouvert\w*|ouvre\w*", "verb", "open"),
        (r"ferm\w*|clos\w*", "verb", "close"),
        (r"lev(?!res?\b)\w*|hauss\w*|souleve\w*|arqu\w*|rel[eè]v\w*", "verb", "raise"),
        (r"baiss\w*|tomb\w*|abaiss\w*", "verb", "lower"),
        (r"pinc\w*|serr\w*|press\w*", "verb", "press"),
        (r"tourn\w*|detourn\w*", "verb", "turn"),
        (r"mord\w*", "verb", "bite"),
        (r"gonfl\w*", "verb", "puff"),
        (r"tir\w* la langue", "act", "tongue_out"),
        (r"bouge\w*|bouger", "verb", "move"),
        (r"yeux", "part", "eyes"),
        (r"oeil|l'oeil", "part", "eye"),
        (r"sourcils", "part", "brows"),
        (r"sourcil", "part", "brow"),
        (r"bouche|machoire", "part", "mouth"),
        (r"levres?", "part", "lips"),
        (r"tete", "part", "head"),
        (r"front", "part", "forehead"),
        (r"coins? de (?:la bouche|ses levres|sa bouche)|commissures?(?: des levres)?", "part", "corners"),
        (r"regards?", "part", "gaze"),
        (r"menton", "part", "chin"),
        (r"nez", "part", "nose"),
        (r"joues", "part", "cheeks"),
        (r"dents", "part", "teeth"),
        (r"cesse de|arrete de", "stop", "stop"),
        (r"ne|n'|sans|jamais|aucun\w*", "neg", "not"),
        (r"toujours|encore|continue\w* (?:de|a)", "keep", "keep"),
        (r"a peine|imperceptiblement", "int", "trace"),
        (r"legerement|un peu|un petit peu|doucement|faiblement|timide\w*|petit\w*", "int", "slight"),
        (r"tres|beaucoup|grand|grande\w*|grands|fort|fortement|largement|jusqu'aux oreilles|intensement|"
         r"completement|de toutes ses forces|aux eclats", "int", "strong"),
        (r"gauche", "lr", "left"),
        (r"droite|droit(?! devant)", "lr", "right"),
        (r"(?:vers le |en )haut|au ciel|au plafond", "dir", "up"),
        (r"(?:vers le |en )bas|au sol|par terre", "dir", "down"),
        (r"droit devant|devant (?:lui|elle)", "dir", "ahead"),
        (r"mais|puis|tandis que|alors que|pendant que|ensuite", "sep", "but"),
        (r"et", "and", "and"),
        (r"surpris\w*|etonn\w*|stupefait\w*", "emo", "surprised"),
        (r"joie|heureu\w*|content\w*|ravi\w*", "emo", "happy"),
        (r"trist\w*|chagrin", "emo", "sad"),
        (r"colere|furieu\w*|fache\w*|enerve\w*", "emo", "angry"),
        (r"peur|effray\w*|terrifi\w*|apeur\w*", "emo", "afraid"),
        (r"degout\w*", "emo", "disgusted"),
        (r"inquiet\w*|soucieu\w*", "emo", "worried"),
        (r"mefian\w*|soupconneu\w*", "emo", "suspicious"),
    ),
)
