"""Korean: facial actions, parts, intensity, negation and sides (patterns over the raw text).

Korean writes an eojeol (a word plus its particles and endings: 눈을, 눈썹이, 감았다, 웃지) as one spaced unit, so
nouns are matched with any particle after them and verbs by stem with any ending (``감[았고는은아다기]`` for 감다
"close the eyes", ``벌[리려렸린]`` for 벌리다 "open the mouth"). Objects come before the verb. ``안`` before a
verb negates it; ``-지 않다`` / ``-지 못하다`` after it too. 왼쪽/오른쪽 are the subject's own sides.
"""

from __future__ import annotations

from .frames import LanguageLexicon

__all__ = ["LEXICON"]

_B = "(?<![가-힣])"  # start of an eojeol

LEXICON = LanguageLexicon(
    code="ko", name="Korean", order="ov", latin=False,
    entries=(
        (f"{_B}(?:깔깔|껄껄|낄낄|하하|폭소|박장대소|크게 웃|소리 내어 웃|웃음을 터뜨|웃음이 터)", "act", "laugh"),
        (f"{_B}(?:미소|웃[는고었어음으은을지기다])|{_B}웃|방긋|빙그레|싱긋|생긋|웃음", "act", "smile"),
        (f"{_B}(?:히죽|씩 웃|비웃)", "act", "smirk"),
        (f"{_B}울[고었어음며먹는지기다]|{_B}울(?=\\s|$)|눈물|흐느|오열|훌쩍", "act", "cry"),
        ("찌푸[리려렸린]|찡그[리려렸린]|눈살|미간을 좁|인상을 쓰|인상을 썼|얼굴을 찡", "act", "frown"),
        ("윙크", "act", "wink"),
        ("깜빡|깜박|눈을 깜", "act", "blink"),
        ("끄덕", "act", "nod"),
        ("고개를 (?:가로)?저[었으어]|도리질|절레절레|젓[는고다]", "act", "headshake"),
        ("입을 삐죽|입술을 삐죽|뾰로통|삐죽", "act", "pout"),
        ("하품", "act", "yawn"),
        ("한숨", "act", "sigh"),
        ("비명|소리를 지르|소리를 질렀|외치|외쳤", "act", "scream"),
        ("눈이 휘둥그레|휘둥그레|눈을 동그랗게|눈을 크게 뜨|눈을 크게 떴|눈이 커지|눈이 커졌", "act", "eyes_wide"),
        ("가늘게 뜨|가늘게 떴|실눈|눈을 가늘게", "act", "eyes_narrow"),
        ("입술을 깨물|입술을 물", "act", "lip_bite"),
        ("볼을 부풀|뺨을 부풀", "act", "cheek_puff"),
        ("혀를 내밀|메롱", "act", "tongue_out"),
        ("갸웃|갸우뚱|기울[이여였인]", "act", "tilt"),
        ("고개를 숙[이여였인]|숙[이여였인]|떨구|떨궜", "act", "head_down"),
        ("무표정|포커페이스", "act", "neutral"),
        ("올려다[보본봤봅볼봐]|우러러[보본봤]", "act", "look_up"),
        ("내려다[보본봤봅볼봐]", "act", "look_down"),
        (f"(?:바라|쳐다|훑어|째려|흘겨)[보본봤봅볼봐]|응시|흘끗|힐끗|{_B}[보본봤봅볼봐](?:[가-힣]*)", "act", "look"),
        ("감[았고는은아다기]", "verb", "close"),
        ("다[물문묾]", "verb", "press"),
        ("꼭 다물|꽉 다물|앙다물", "verb", "press"),
        ("뜨[고는다]|떴|뜬", "verb", "open"),
        ("벌[리려렸린]|열[었어고다]|벌어[지졌진]", "verb", "open"),
        ("치켜[올세]|올[리려렸린]|들어 올|추켜올", "verb", "raise"),
        ("내[리려렸린]|떨어뜨", "verb", "lower"),
        ("모[으아았은]", "verb", "knit"),
        ("돌[리려렸린]|돌아보|돌아봤", "verb", "turn"),
        (f"{_B}눈썹[을이은도]?", "part", "brows"),
        (f"{_B}(?:두 )?눈[을이은도]?(?![가-힣])", "part", "eyes"),
        (f"{_B}(?:입꼬리|입가)[를가는]?", "part", "corners"),
        (f"{_B}입[을이은도]?(?![가-힣])", "part", "mouth"),
        (f"{_B}입술[을이은도]?", "part", "lips"),
        (f"{_B}(?:고개|머리)[를가는]?", "part", "head"),
        (f"{_B}이마[를가는]?", "part", "forehead"),
        (f"{_B}(?:시선|눈길)[을이은]?", "part", "gaze"),
        (f"{_B}턱[을이은]?", "part", "chin"),
        (f"{_B}이[를가]|이를 악물", "part", "teeth"),
        (f"{_B}더 이상 (?:안 )?|그만", "stop", "stop"),
        (f"{_B}안(?=\\s)|{_B}못(?=\\s)", "neg", "not"),
        ("않[고는았은아다]|못하|못했", "negpost", "not"),
        (f"{_B}(?:여전히|계속|아직|아직도)", "keep", "keep"),
        (f"{_B}(?:희미하게|어렴풋이|살며시)", "int", "trace"),
        (f"{_B}(?:살짝|약간|조금|가볍게|슬며시|살포시|작게|은은하게)", "int", "slight"),
        (f"{_B}(?:크게|활짝|환하게|꽉|꼭|세게|매우|아주|몹시|힘껏|많이|너무|엄청|가득|잔뜩|심하게)", "int", "strong"),
        (f"{_B}(?:왼쪽|왼|좌측)", "lr", "left"),
        (f"{_B}(?:오른쪽|오른|우측)", "lr", "right"),
        (f"{_B}(?:위|위쪽|하늘|천장)", "dir", "up"),
        (f"{_B}(?:아래|아래쪽|밑|땅|바닥)", "dir", "down"),
        (f"{_B}(?:정면|앞)", "dir", "ahead"),
        ("하지만|그러나|지만(?=\\s)|면서(?=\\s)", "sep", "but"),
        (r"그리고", "and", "and"),
        ("놀라|놀란|놀랐|깜짝", "emo", "surprised"),
        ("기쁘|기쁜|기뻐|행복|즐거", "emo", "happy"),
        ("슬프|슬픈|슬퍼|서글", "emo", "sad"),
        ("화가|화난|분노|짜증", "emo", "angry"),
        ("무서|두려|겁에", "emo", "afraid"),
        ("역겨|혐오", "emo", "disgusted"),
        ("걱정|불안", "emo", "worried"),
    ),
)
