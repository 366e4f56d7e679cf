"""What a person's interest asks for: pastimes, habits and small troubles, in English and 中文, and the kinds of
product that serve them ("she bakes sourdough every weekend" → kitchen; "老爸睡觉总说冷" → bedding; "his phone is
always dead by lunch" → charger).

One line per interest: the words that tell it, ``=>``, then the kinds that serve it, best first. Like the synonym
groups (:mod:`daogou.search.synonyms`), a line takes effect in a store only through a kind its vocabulary knows: the
first kind of the line that names one of the store's categories is the answer. A store that sells none of a line's
kinds learns that the interest was understood and that it has nothing for it ("my uncle loves fishing" in a store
with no fishing gear), which is better than a guess. A store adds or overrides lines in ``HOME/interests.txt``
(same format; its lines come first, so they win).

English words are matched by their stems ("jogs", "jogging" → jog), Chinese by their characters. A ``*`` between
words allows a few words between them ("phone * dead": "her phone is always dead"; "脚*凉": "脚总是冰凉").
When several lines match, the one that spans most of the message wins ("his phone runs out of battery" is about
the battery, not running).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from daogou.errors import ValidationError
from daogou.search.lexical import stem_word as _stem
from daogou.search.synonyms import store_lines

BUILT_IN = """
# troubles with a thing one has (they name the thing, but ask for something else)
phone * dead | phone * dies | phone * dying | phone * battery | phone * charge | phone * out of juice | battery * dead | battery * dies | battery * runs out | 手机*没电 | 手机*电量 | 手机*充电 | 手机*充*电 | 没电 | 电量焦虑 => charger | power bank
phone * drop | phone * crack | phone * smash | phone * scratch | drop * phone | crack * screen | smash * screen | 手机*摔 | 摔*手机 | 手机*碎 | 屏幕*碎 | 手机*刮花 => phone case | screen protector
feet * cold | feet * freezing | feet * chilly | feet * icy | cold feet | 脚*冷 | 脚*凉 | 脚*冰 => socks | slippers
laptop * carry | laptop * lug | carry * laptop | lug * laptop | books * carry | carry * books | 背着电脑 | 带电脑 | 背电脑 | 电脑*书 | 书*电脑 => backpack | bag
cold at night | cold in bed | always cold | gets cold | feels cold | so cold | freezing at night | cold nights | winter nights | cold winter | chilly nights | keep warm | stay warm | 保暖 | 暖和 | 御寒 | 怕冷 | 觉得冷 | 说冷 | 很冷 | 晚上冷 | 睡觉*冷 | 被窝*冷 => blanket | bedding | socks
can't sleep | cant sleep | trouble sleeping | sleep badly | light sleeper | insomnia | 睡不好 | 睡不着 | 失眠 | 睡眠不好 => pillow | bedding
phone * slow | phone * laggy | phone * ancient | phone * broke | phone * broken | phone * dinosaur | 手机*卡 | 手机*太旧 | 手机*坏了 | 手机*换 => phone
coffee * hot | coffee * warm | coffee * cold | tea * hot | tea * warm | drinks * hot | drinks * cold | drink * hot | drink * cold | water * cold | iced coffee | hot drinks | 咖啡*热 | 咖啡*凉 | 茶*热 | 茶*凉 | 水*凉 | 喝热水 | 热水 | 保温 => insulated bottle | thermos
clumsy | butterfingers | 手笨 | 毛手毛脚 | 丢三落四 => phone case
sweaty feet | smelly feet | blisters | 脚臭 | 脚汗 | 磨脚 | 起泡 => socks
snoring | snores | noisy | noise | too loud | 打呼噜 | 呼噜 | 噪音 | 太吵 | 很吵 => headphones
acne | breakouts | pimples | wrinkles | anti-aging | anti aging | dark circles | 痘痘 | 长痘 | 皱纹 | 抗老 | 黑眼圈 | 毛孔 => skincare
dandruff | split ends | hair loss | thinning hair | frizz | frizzy | 头皮屑 | 分叉 | 掉发 | 脱发 | 头油 => hair care
# pastimes
running | run | ran | runner | jog | jogger | marathon | half marathon | ultramarathon | ultra marathon | ultras | parkrun | couch to 5k | cross country | track and field | sprint | sprints | 跑步 | 晨跑 | 夜跑 | 慢跑 | 长跑 | 马拉松 | 全马 | 半马 | 跑马 | 越野跑 | 跑团 | 跑者 => running shoes | sports socks | sports
hiking | hike | hiker | trek | trekking | trekker | trail walking | trails | hillwalking | hill walking | backpacking | mountaineering | mountains | the outdoors | outdoorsy | camping | camp | scrambling | nature walks | long walks | walks the dog | dog walking | walking | walker | national parks | 散步 | 健走 | 遛狗 | 走路 | 爬山 | 登山 | 徒步 | 户外 | 远足 | 露营 | 驴友 | 山里 | 进山 => hiking boots | backpack | socks
yoga | pilates | meditation | meditate | stretching | stretch | mindfulness | barre | 普拉提 | 冥想 | 拉伸 | 瑜伽 | 瑜珈 | 正念 | 打坐 | 练功 => yoga mat | yoga | sports
gym | workout | working out | fitness | weightlifting | lifting weights | crossfit | gym rat | gym junkie | 健身 | 撸铁 | 健身房 => trainers | fitness | sports
cycling | cyclist | biking | bike rides | mountain biking | 骑行 | 骑车 | 单车 => bike helmet | cycling
swimming | swimmer | swim | 游泳 => swimsuit | swimming goggles
tennis | badminton | squash | pickleball | 网球 | 羽毛球 => racket | sports
basketball | football | soccer | volleyball | 篮球 | 足球 | 排球 => ball | sports
golf | golfer | golfing | 高尔夫 => golf balls | golf clubs
fishing | angling | angler | 钓鱼 | 垂钓 | 路亚 => fishing rod | fishing gear
cooking | cook | chef | home cook | home chef | home baker | foodie | recipes | recipe | baking | bake | baker | sourdough | cakes | grilling | barbecue | bbq | dinner parties | hosting | entertaining | meal prep | cooking shows | 做饭 | 煮饭 | 料理 | 家常菜 | 吃货 | 下厨 | 厨艺 | 烹饪 | 烘焙 | 煲汤 | 做菜 | 烧菜 | 炒菜 | 做蛋糕 | 做面包 | 做甜点 | 美食博主 | 晒菜 => kitchen | cookware
coffee | barista | espresso | latte art | 咖啡 => coffee maker | insulated bottle | kitchen
tea | 喝茶 | 品茶 | 茶道 => tea set | insulated bottle | kitchen
music | songs | song | podcasts | podcast | audiobooks | audiobook | spotify | playlists | playlist | concerts | gigs | vinyl | calls | zoom calls | video calls | online classes | 听歌 | 开会 | 网课 | 音乐 | 播客 | 有声书 | 听书 | 歌单 | 追星 => headphones | speaker
gaming | gamer | video games | plays games | console | 打游戏 | 玩游戏 | 电竞 => headphones | gaming
sleep | sleeping | naps | nap | napping | sleeps in | lie-ins | lie in | 睡觉 | 睡眠 | 午睡 | 赖床 | 睡懒觉 | 补觉 => bedding | pillow | blanket
skin | skincare routine | skin care routine | face routine | skin routine | complexion | facials | face masks | sheet masks | 护肤 | 皮肤 | 面膜 | 保养皮肤 | 护肤达人 => skincare | face cream
hair | curls | curly hair | long hair | 头发 | 长发 | 发质 | 洗头 | 护发 | 毛躁 => hair care | shampoo
makeup | make-up | 化妆 | 彩妆 => makeup | beauty
building | builds | builder | build things | putting things together | stem | engineering | construction sets | construction | lego | legos | bricks | model kits | 拼装 | 拼搭 | 搭建 | 拼东西 | 搭房子 | 拼模型 | 拼拼 | 搭积木 | 积木 | 乐高 | 动手 => building blocks | toys
travel | travels | traveling | travelling | business trips | trips | flights | backpacking trip | 出差 | 旅行 | 旅游 | 出远门 => backpack | luggage
school | uni | university | college | campus | library | 上学 | 大学 | 图书馆 | 开学 => backpack | stationery
fashion | dressing up | dress up | outfits | stylish | wedding guest | date night | 约会 | 喝喜酒 | 穿搭 | 打扮 | 时尚 => dress | t-shirt | clothing
painting | drawing | sketching | art | 画画 | 绘画 | 素描 => paint set | art supplies
reading | reader | bookworm | novels | books | 看书 | 读书 | 阅读 => books | e-reader
photography | photographer | photos | 摄影 | 拍照 => camera
gardening | garden | gardener | plants | 园艺 | 种花 | 养花 => gardening tools | plant pots
pets | dog | cat | puppy | kitten | 狗 | 猫 | 宠物 => pet supplies
"""


@dataclass(frozen=True)
class Interest:
    kinds: tuple[str, ...]               # the kinds of product that serve it, best first
    spans: tuple[tuple[int, int], ...]   # where the message told it (characters of its NFKC, lower-cased text)

    def span(self, text: str) -> str:
        """What told it, in ``text`` (the message it was found in): the longest of its spans."""
        start, end = max(self.spans, key=lambda sp: sp[1] - sp[0])
        return _norm(text)[start:end]

    def rest(self, text: str) -> str:
        """``text`` without what told it."""
        norm, out, at = _norm(text), [], 0
        for start, end in sorted(self.spans):
            out.append(norm[at:start])
            at = max(at, end)
        return " ".join([*out, norm[at:]])

    def modifies(self, text: str, unknown: Callable[[str], bool]) -> bool:
        """Whether, in ``text``, what told it names a kind of product the store may not have: said before an
        unknown word and after no word of liking ("running shorts", "golf balls" — but "she loves baking bread")."""
        norm = _norm(text)
        widest = [sp for sp in self.spans if not any(o != sp and o[0] <= sp[0] and sp[1] <= o[1] for o in self.spans)]
        starts = {start for start, _ in self.spans}
        for start, end in widest:
            after = _TOKEN.match(norm, end + 1) if norm[end:end + 1] == " " else None
            if after is None or after.start() in starts or after.group() in _LINKING or not unknown(after.group()):
                continue
            before = _TOKEN.findall(norm[:start])
            if not (before and _stems(before[-1]) in _LIKING):
                return True
        return False


# words after an activity that say where, when or how much, not what product it names
_LINKING = set("""along by near past round before after early late fast far hard around through across over under
during since while when whenever until till at on in with without
from to for of and or but so because every each all most lots daily weekly nightly again too also now lately recently
anymore everywhere together outside outdoors indoors abroad home there here like as than this that these those
weekend weekends morning mornings night nights day days week weeks month months year years summer winter spring
autumn fall""".split())
# the word before an activity that makes it a pastime, not a product's name ("loves running", "into hiking")
_LIKING = {_stem(w) for w in "love loves loved enjoy enjoys into like likes does do doing goes go started start "
                             "took taken up about obsessed addicted passionate hooked fan mad crazy".split()}
_TOKEN = re.compile(r"[a-z][a-z'’-]*|\d+[a-z]*")
_CJK = re.compile(r"[\u3400-\u9fff]")
_CLAUSE_CJK = r"[^,.;:!?，。；：！？、\s]"
GAP_WORDS, GAP_CHARS = 5, 6  # at most this many words (English) or characters (中文) in a "*" gap


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().replace("’", "'")


def _stems(word: str) -> str:
    word = word.strip("'-")
    if word.endswith("'s"):
        word = word[:-2]
    return _stem(word)


class Interests:
    """The interest lines of a store (its own first, then the built-in ones); :meth:`find` reads a message."""

    def __init__(self, lines: list[tuple[list[str], list[str]]]):
        self.lines = lines
        self._english: list[tuple[int, list[list[str] | None]]] = []  # (line, stems with None for a gap)
        self._chinese: list[tuple[int, re.Pattern]] = []
        for i, (words, _) in enumerate(lines):
            for w in words:
                if _CJK.search(w):
                    parts = [re.escape(p.strip()) for p in w.split("*")]
                    self._chinese.append((i, re.compile(f"{_CLAUSE_CJK}{{0,{GAP_CHARS}}}".join(parts))))
                else:
                    seq: list[list[str] | None] = []
                    for j, part in enumerate(w.split("*")):
                        if j:
                            seq.append(None)
                        seq.extend([_stems(t)] for t in _TOKEN.findall(_norm(part)))
                    if seq:
                        self._english.append((i, seq))

    @classmethod
    def built_in(cls) -> "Interests":
        return _built_in()

    @classmethod
    def for_store(cls, home: Path | None) -> "Interests":
        own = store_interests(home / "interests.txt") if home else []
        return cls(own + _built_in().lines) if own else _built_in()

    def find(self, text: str) -> Interest | None:
        """The interest ``text`` tells (the line matched over the most characters, the earlier line on a tie), or
        None."""
        found = self.find_all(text)
        return found[0] if found else None

    def find_all(self, text: str) -> list[Interest]:
        """Every interest ``text`` tells, the widest told first ("loves gardening and cooking": two)."""
        norm = _norm(text)
        found: list[tuple[int, int, int]] = []  # (line, start, end)
        for i, pattern in self._chinese:
            found += [(i, m.start(), m.end()) for m in pattern.finditer(norm)]
        tokens = [(_stems(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(norm)]
        if tokens:
            for i, seq in self._english:
                found += [(i, s, e) for s, e in _seq_matches(seq, tokens)]
        order = sorted(found, key=lambda f: (-(f[2] - f[1]), f[0], f[1]))
        lines = list(dict.fromkeys(line for line, _, _ in order))
        return [Interest(tuple(self.lines[line][1]), tuple(sorted({(s, e) for i, s, e in found if i == line})))
                for line in lines]


@lru_cache(maxsize=1)
def _built_in() -> Interests:
    return Interests(parse_interests(BUILT_IN, "built-in interests"))


def _seq_matches(seq: list[list[str] | None], tokens: list[tuple[str, int, int]]) -> list[tuple[int, int]]:
    """Character spans where the stems of ``seq`` occur in ``tokens`` in order, a ``None`` allowing a gap."""
    out = []
    first = seq[0]
    assert first is not None
    for k, (stem, start, _) in enumerate(tokens):
        if stem != first[0]:
            continue
        end = _match_from(seq, 1, tokens, k + 1)
        if end is not None:
            out.append((start, tokens[end - 1][2]))
    return out


def _match_from(seq: list[list[str] | None], at: int, tokens: list[tuple[str, int, int]], k: int) -> int | None:
    """The token index just after a match of ``seq[at:]`` starting at token ``k``, or None."""
    if at == len(seq):
        return k
    step = seq[at]
    if step is None:  # a gap of up to GAP_WORDS words, then the rest
        for skip in range(GAP_WORDS + 1):
            end = _match_from(seq, at + 1, tokens, k + skip)
            if end is not None:
                return end
        return None
    if k < len(tokens) and tokens[k][0] == step[0]:
        return _match_from(seq, at + 1, tokens, k + 1)
    return None


def parse_interests(text: str, where: str = "interests") -> list[tuple[list[str], list[str]]]:
    """Lines of ``words | words => kind | kind`` (``#`` starts a comment) as (words, kinds)."""
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        told, arrow, serves = line.partition("=>")
        words = [w.strip() for w in told.split("|") if w.strip() and ">" not in w]
        kinds = [k.strip() for k in serves.split("|") if k.strip()]
        if not arrow or not words or not kinds:
            raise ValidationError(f"{where}:{number}", "expected 'words | words => kind | kind' "
                                                       "(what tells the interest, then the kinds that serve it)")
        lines.append((words, kinds))
    return lines


def store_interests(path: Path) -> list[tuple[list[str], list[str]]]:
    """A store's own interest lines (``HOME/interests.txt``), or none when the file does not exist."""
    return store_lines(path, parse_interests)
