"""Spanish: facial actions, parts, intensity, negation and sides (patterns over accent-folded text).

Verbs are matched by stem, so every person, tense and the gerund/participle read alike: ``sonr(?:i|e)`` covers
sonríe, sonreír, sonriendo, sonrisa; ``cerr|cierr`` covers cierra, cerró, cerrados. Adjectives agree in gender and
number (``izquierd[oa]s?``). Negation ``no``/``sin``/``nunca`` scopes the next action; ``ya no`` = no longer.
"""

from __future__ import annotations

from .frames import LanguageLexicon

__all__ = ["LEXICON"]

LEXICON = LanguageLexicon(
    code="es", name="Spanish", order="vo",
    stopwords=frozenset(["el", "la", "los", "las", "un", "una", "unos", "unas", "y", "o", "de", "del", "al", "con", "por", "para", "su", "sus", "se", "le", "lo", "es", "esta", "está", "muy", "pero", "sin", "hacia", "mientras", "que", "como", "ella", "él", "ya"]),
    letters="ñ¿¡",
    entries=(
        # whole actions
        (r"sonr(?:i|e)\w*|sonris\w*", "act", "smile"),
        (r"carcajad\w*|(?:se )?(?:echa|rompe|estalla) a reir|rie\w*|re[ií]r\w*|riendo|ri[eo]|rien|risa\w*", "act", "laugh"),
        (r"llor\w*|llant\w*|solloz\w*|lagrim\w*", "act", "cry"),
        (r"(?:frunc\w*|arrug\w*) (?:el |la )?(?:ceno|entrecejo|frente)|ceno fruncido|frunc\w*", "act", "frown"),
        (r"(?:hace|le hace) un guino|guin\w*", "act", "wink"),
        (r"parpade\w*|pestane\w*", "act", "blink"),
        (r"asient\w*|asint\w*|(?:mueve|sacude) la cabeza (?:de arriba abajo|afirmativamente)", "act", "nod"),
        (r"(?:niega|sacude|mueve) (?:con )?la cabeza|niega\w*", "act", "headshake"),
        (r"(?:hace |pone )?(?:un )?puchero\w*", "act", "pout"),
        (r"bostez\w*", "act", "yawn"),
        (r"suspir\w*", "act", "sigh"),
        (r"grit\w*|chill\w*", "act", "scream"),
        (r"mueca\w*", "act", "grimace"),
        (r"abre (?:mucho|bien|muy) los ojos|(?:con )?los ojos (?:muy )?(?:abiertos de par en par|como platos)|"
         r"ojos como platos|desorbit\w*", "act", "eyes_wide"),
        (r"entrec(?:ie|e)rr\w*|entorn\w*", "act", "eyes_narrow"),
        (r"entreabiert\w*|entreabr\w*|entreabre\w*", "act", "lips_part"),
        (r"boquiabiert\w*", "act", "jaw_drop"),
        (r"ladea\w*|inclin\w* (?:la cabeza )?(?:hacia |a )?(?:un lado|la izquierda|la derecha)", "act", "tilt"),
        (r"mir(?!ada|r)\w*|observ\w*|ojea\w*|echa un vistazo", "act", "look"),
        (r"(?:agacha|baja) la cabeza|cabizbaj\w*", "act", "head_down"),
        (r"inexpresiv\w*|cara de poker|rostro neutro", "act", "neutral"),
        # verbs that need a part
        (r"abr\w*|abiert\w*|abre\w*", "verb", "open"),
        (r"cierr\w*|cerr\w*", "verb", "close"),
        (r"levant\w*|alz\w*|arque\w*|subi\w*|sube\w*|enarc\w*", "verb", "raise"),
        (r"baj\w*|agach\w*|caid\w*|cae\w*|hund\w*", "verb", "lower"),
        (r"aprie\w*|apret\w*|presion\w*", "verb", "press"),
        (r"estrech\w*|achic\w*", "verb", "narrow"),
        (r"junt\w*", "verb", "knit"),
        (r"gir\w*|vuelv\w*|volt\w*", "verb", "turn"),
        (r"inclin\w*", "verb", "tilt"),
        (r"muerd\w*|mord\w*", "verb", "bite"),
        (r"infl\w*", "verb", "puff"),
        (r"sac\w* la lengua", "act", "tongue_out"),
        (r"mueve\w*|mover\w*|movi\w*", "verb", "move"),
        # parts
        (r"ojo", "part", "eye"),
        (r"ojos", "part", "eyes"),
        (r"ceja", "part", "brow"),
        (r"cejas", "part", "brows"),
        (r"boca|mandibula", "part", "mouth"),
        (r"labios?", "part", "lips"),
        (r"cabeza", "part", "head"),
        (r"frente", "part", "forehead"),
        (r"comisuras?(?: de (?:la boca|los labios))?", "part", "corners"),
        (r"mirada", "part", "gaze"),
        (r"barbilla|menton", "part", "chin"),
        (r"nariz", "part", "nose"),
        (r"mejillas?|cachetes?", "part", "cheeks"),
        (r"dientes", "part", "teeth"),
        # modifiers
        (r"ya no|deja de|dejo de|para de", "stop", "stop"),
        (r"no|sin|nunca|ni", "neg", "not"),
        (r"sigue|siguen|todavia|aun|continua\w*", "keep", "keep"),
        (r"apenas|casi imperceptiblemente", "int", "trace"),
        (r"levemente|ligeramente|un poco|un poquito|un tanto|algo|suavemente|tenuemente|tim\w*", "int", "slight"),
        (r"muy|mucho|muchisimo|bien|fuerte\w*|ampliamente|amplia\w*|intensamente|"
         r"completamente|totalmente|desconsolada\w*|a carcajadas|de par en par", "int", "strong"),
        (r"de oreja a oreja|a carcajada limpia", "int", "max"),
        (r"izquierd[oa]s?", "lr", "left"),
        (r"derech[oa]s?", "lr", "right"),
        (r"(?:hacia )?arriba|al cielo|al techo", "dir", "up"),
        (r"(?:hacia )?abajo|al suelo", "dir", "down"),
        (r"al frente|hacia delante|hacia adelante", "dir", "ahead"),
        (r"pero|aunque|mientras|luego|despues", "sep", "but"),
        (r"y|e", "and", "and"),
        # emotions
        (r"sorprendid\w*|sorpresa|asombr\w*", "emo", "surprised"),
        (r"alegr\w*|feliz|content[oa]s?|felicidad", "emo", "happy"),
        (r"trist\w*|tristeza", "emo", "sad"),
        (r"enfadad\w*|enojad\w*|furios\w*|ira|rabia|enfado", "emo", "angry"),
        (r"asustad\w*|miedo|aterrad\w*", "emo", "afraid"),
        (r"asco|asquead\w*", "emo", "disgusted"),
        (r"preocupad\w*|preocupacion", "emo", "worried"),
    ),
)
