"""Japanese: facial actions, parts, intensity, negation and sides (patterns over the raw text).

A verb is its kanji (or kana) stem followed by any kana ending, so every inflection reads alike: ``閉じ`` (閉じる,
閉じた, 閉じている), ``開[けいかきくこっ]`` (開ける, 開いた), ``笑`` (笑う, 笑った, 笑顔). Objects come before the verb
(``目を閉じる``), so a verb takes the parts before it. Negative endings (ない, ず, なかった, ません) negate the verb
before them. 左/右 are the subject's own sides.
"""

from __future__ import annotations

from .frames import LanguageLexicon

__all__ = ["LEXICON"]

_K = "[ぁ-ゖ]*"  # any hiragana ending

LEXICON = LanguageLexicon(
    code="ja", name="Japanese", order="ov", latin=False,
    entries=(
        ("大笑い|爆笑|吹き出|声を(?:出して|あげて|上げて)笑|げらげら|ゲラゲラ|ケラケラ|けらけら|高笑い|笑い転げ", "act", "laugh"),
        ("微笑|ほほえ|ほほ笑|にっこり|にこっと|にこにこ|ニコニコ|ニッコリ|笑顔|笑み|笑", "act", "smile"),
        ("にやり|にやにや|ニヤリ|ニヤニヤ|ほくそ笑", "act", "smirk"),
        ("泣|涙|号泣|すすり泣|べそ", "act", "cry"),
        ("眉(?:間)?(?:に|を)?(?:しわ|皺)を寄せ|眉をひそめ|眉を顰め|眉根を寄せ|しかめ(?:っ)?面|顔をしかめ|顔を顰め|しかめ", "act", "frown"),
        ("ウインク|ウィンク|目配せ", "act", "wink"),
        ("まばたき|瞬き|瞬きを|パチパチ", "act", "blink"),
        ("うなず|頷|首を縦に振", "act", "nod"),
        ("首を横に振|かぶりを振|頭を振", "act", "headshake"),
        ("口を尖らせ|口をとがらせ|ふくれっ面|膨れっ面", "act", "pout"),
        ("あくび|欠伸", "act", "yawn"),
        ("ため息|溜め息|溜息", "act", "sigh"),
        ("叫|悲鳴|怒鳴", "act", "scream"),
        ("見開|目を丸く|目を見張|目を剥|目を白黒", "act", "eyes_wide"),
        ("目を細め|細め|目を凝ら|薄目", "act", "eyes_narrow"),
        ("唇を噛|唇をかみ|下唇を噛", "act", "lip_bite"),
        ("頬を膨らませ|ほおを膨らませ|ほっぺを膨らませ", "act", "cheek_puff"),
        ("舌を出", "act", "tongue_out"),
        ("首をかしげ|首を傾げ|小首をかしげ|首を傾け|頭を傾け|かしげ|傾げ", "act", "tilt"),
        ("うつむ|俯|頭を下げ|首を垂れ|項垂れ|うなだれ", "act", "head_down"),
        ("見上げ|仰ぎ見|上を見|上目遣い", "act", "look_up"),
        ("見下ろ|目を伏せ|視線を落と|下を見", "act", "look_down"),
        ("無表情|真顔|ポーカーフェイス", "act", "neutral"),
        ("見つめ|見詰め|見[るたてなま]|眺め|目をやっ|目を向け|視線を向け|ちらっと見|ちらりと見|ちらっと|ちらりと|睨|にらみ|にらん", "act", "look"),
        ("振り向|振り返|向[いくけき]", "verb", "turn"),
        ("閉じ|つぶ|つむ|瞑|閉め|閉ざ", "verb", "close"),
        ("開け|開[いかきくこっ]|あけ|あい", "verb", "open"),
        ("上げ|あげ|つり上げ|吊り上げ|持ち上げ", "verb", "raise"),
        ("下げ|さげ|落と|伏せ", "verb", "lower"),
        ("結[ぶびんば]|結ん|きゅっと結|引き結|引き締め|噛みしめ|かみしめ", "verb", "press"),
        ("寄せ", "verb", "knit"),
        ("回|回し|向け", "verb", "turn"),
        ("目", "part", "eyes"),
        ("両目|両眼|眼", "part", "eyes"),
        ("まぶた|瞼", "part", "eyes"),
        ("眉毛|眉", "part", "brows"),
        ("口角", "part", "corners"),
        ("口|あご|顎", "part", "mouth"),
        ("唇|くちびる", "part", "lips"),
        ("首|頭", "part", "head"),
        ("顔", "part", "face"),
        ("額|おでこ", "part", "forehead"),
        ("視線|目線", "part", "gaze"),
        ("歯", "part", "teeth"),
        ("もう(?:笑|微笑|泣)(?:わ|か)?ない|やめ", "stop", "stop"),
        ("ない|ず(?:に)?|なかった|ません|ぬ", "negpost", "not"),
        ("まだ|ずっと|相変わらず", "keep", "keep"),
        ("かすかに|微かに|ほんのり|ほのかに", "int", "trace"),
        ("少し|ちょっと|わずかに|僅かに|軽く|そっと|やや|うっすら|小さく|静かに", "int", "slight"),
        ("大きく|強く|ぎゅっと|ぎゅう|しっかり|とても|すごく|かなり|思いっきり|思い切り|満面の|激しく|大|固く|かたく", "int", "strong"),
        ("左", "lr", "left"),
        ("右", "lr", "right"),
        ("上", "dir", "up"),
        ("下", "dir", "down"),
        ("正面|前方|まっすぐ", "dir", "ahead"),
        ("けれど|けど|しかし|でも|ながら|ので|から", "sep", "but"),
        (r"そして", "and", "and"),
        ("驚|びっくり|ビックリ", "emo", "surprised"),
        ("嬉し|うれし|喜|楽し", "emo", "happy"),
        ("悲し|かなし|寂し", "emo", "sad"),
        ("怒|腹を立て|イライラ", "emo", "angry"),
        ("怖|恐|怯え|おびえ", "emo", "afraid"),
        ("嫌悪|気持ち悪|うんざり", "emo", "disgusted"),
        ("心配|不安", "emo", "worried"),
    ),
)
