"""Words for things: groups of words shoppers use for the same kind of product or value, in English and 中文.

A group takes effect in a store only through a word of it that the store's own vocabulary already knows (its
anchor, see :meth:`Vocabulary.add_synonyms`): "rucksack" reaches the category whose products say "backpack", and
in a store without backpacks the group does nothing. A store adds or overrides groups in ``HOME/synonyms.txt``
(same format: one group per line, words separated by ``|``, ``#`` starts a comment); its groups are applied
first, so they win. Words after a ``>`` name what the group's things are a kind of: when none of the group's own
words names a category of the store, the first of those that does is the anchor ("thermos | 保温杯 > kitchen").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from daogou.errors import ValidationError

BUILT_IN = """
# top levels
shoes | footwear | 鞋子 | 鞋类
clothing | clothes | apparel | garments | outfit | 衣服 | 服装 | 服饰
electronics | gadgets | tech | 数码 | 数码产品 | 电子产品
home | homeware | household | home goods | 家居 | 家居用品 | 居家
beauty | cosmetics | beauty products | 美妆 | 化妆品 | 美容
sports | sport | sporting goods | sports gear | fitness | 运动 | 运动用品 | 健身
bags | luggage | 箱包 | 包包 | 的包 | 个包 | 电脑包 | 笔记本包
toys | toy | 玩具
# footwear
running shoes | running shoe | runners | sneakers | sneaker | trainers | trainer | jogging shoes | joggers shoes | running sneakers | 跑步鞋 | 慢跑鞋 | 运动鞋 | 跑步的鞋
hiking boots | hiking shoes | hiking boot | trekking shoes | trekking boots | hikers | walking boots | trail shoes | outdoor shoes | boots | 登山靴 | 登山鞋 | 徒步鞋 | 户外鞋 | 爬山鞋 | 徒步靴
# clothing
dress | dresses | frock | frocks | sundress | sundresses | gown | 连衣裙 | 裙子 | 长裙 | 短裙 | 碎花裙 | 裙
t-shirt | t-shirts | tshirt | tshirts | tee | tees | tee shirt | polo | polos | 短袖 | 体恤 | t恤衫 | t恤 | t桖 | t血 | 半袖
socks | sock | sox | 袜子 | 袜 | 船袜 | 长筒袜 | 短袜
# electronics
phone | phones | smartphone | smartphones | cellphone | cellphones | cell phone | mobile phone | mobile | mobiles | handset | 手机 | 智能手机
phone case | phone cases | phone cover | phone covers | case for my phone | phone shell | 手机壳 | 保护壳 | 手机套 | 保护套 | 手机保护壳
headphones | headphone | earbuds | earbud | earphones | earphone | headset | headsets | cans | buds | ear buds | airpods | 耳机 | 耳麦 | 蓝牙耳机 | 耳塞 | 无线耳机
earbuds | in-ear | in ear | in-ears | 入耳式 | 入耳式耳机 | 入耳 | 无线耳机 | 蓝牙耳塞 > headphones | 耳机
over-ear | over ear | over-ears | on-ear | 头戴式 | 头戴式耳机 | 头戴 | 包耳式 > headphones | 耳机
charger | chargers | charging brick | wall charger | wall plug | power adapter | charging adapter | usb charger | usb-c charger | plug charger | 充电器 | 充电头 | 快充头 | 充电插头 | 插头
# home
kitchen | cookware | kitchenware | pots and pans | 厨房用品 | 厨具 | 厨房
frying pan | skillet | wok | woks | pan | pans | frying pans | skillets | 炒锅 | 平底锅 | 煎锅 | 锅
knife set | knives | kitchen knives | chef knife | cleaver | 刀具套装 | 菜刀 | 刀具
cutting board | chopping board | 砧板 | 菜板
insulated bottle | thermos | water bottle | vacuum flask | flask | tumbler | 保温杯 | 保温瓶 | 水杯 | 保温壶 > kitchen | cookware | 厨房用品
bedding | bed sheets | bedsheets | sheets | bed linen | linens | 床上用品 | 床品 | 四件套 | 床单
duvet cover set | duvet | duvet cover | comforter | quilt | duvet insert | 被套 | 被子 | 被罩 | 被芯 | 棉被 | 冬被 | 夏被 | 空调被 | 蚕丝被 | 羽绒被
pillow | pillows | 枕头 | 枕芯
blanket | throw | throw blanket | blankets | 毛毯 | 毯子 | 盖毯
# beauty
skincare | skin care | moisturiser | moisturizer | moisturisers | moisturizers | lotion | face lotion | 护肤品 | 护肤 | 乳液 | 保湿霜 | 保湿乳
face cream | facial cream | night cream | day cream | 面霜
serum | face serum | essence | 精华液 | 精华
cleanser | face wash | facial cleanser | 洁面乳 | 洗面奶 | 洁面 | 洁面膏 | 洁面霜
toner | 爽肤水 | 化妆水
hair care | haircare | 洗护发 | 护发
shampoo | shampoos | 洗发水 | 洗发露 | 洗头膏
conditioner | 护发素
# sports, bags, toys
yoga | 瑜伽用品 | 瑜伽 | 瑜珈
yoga mat | yoga mats | exercise mat | 瑜伽垫 | 瑜珈垫 > yoga
yoga block | yoga blocks | yoga brick | yoga bricks | 瑜伽砖 | 瑜伽块 > yoga
backpack | backpacks | back pack | back packs | rucksack | rucksacks | knapsack | daypack | day pack | schoolbag | school bag | bookbag | book bag | 双肩包 | 背包 | 书包 | 旅行包 | 双肩背包
building blocks | building block | building set | building sets | blocks | block set | block sets | construction set | construction sets | bricks | brick set | lego | legos | construction toys | 积木 | 拼装积木 | 乐高 | 拼装玩具
# values
slim | slim fit | slim-fit | fitted | 修身 | 修身款 | 紧身
oversized | oversize | loose | loose fit | baggy | relaxed fit | 宽松 | 宽松版 | 宽松款 | 落肩
regular | regular fit | classic fit | 常规 | 常规版型 | 标准版型
short | short sleeve | short sleeves | short-sleeved | 短袖的 | 短袖
long | long sleeve | long sleeves | long-sleeved | 长袖
sleeveless | no sleeves | tank | 无袖
non-slip | non slip | nonslip | anti-slip | anti slip | grippy | slip resistant | won't slip | wont slip | doesn't slip | doesnt slip | does not slip | will not slip | 防滑 | 不打滑 | 不滑
light | lightweight | 轻量 | 轻便 | 轻量款
max | maximum cushioning | max cushioning | plush | 强缓震 | 高缓震
balanced | 均衡 | 均衡缓震
xl | 大码 | 大码的 | 加大码 | plus size | plus-size
dry | dry skin | 干皮 | 干性皮肤 | 干性 | 干性肌肤 | 皮肤干 | 皮肤很干 | 皮肤太干 | dry hair | frizzy hair | frizzy | 头发干 | 头发很干 | 头发干枯 | 干枯 | 毛躁
oily | oily skin | oily hair | greasy | greasy hair | greasy skin | oily scalp | greasy scalp | 油皮 | 油性皮肤 | 油性 | 油头 | 出油 | 头油 | 油性头皮 | 爱出油 | 皮肤油 | 皮肤很油 | 头发油 | 头发很油 | 头发太油 | 头发爱出油
combination | combination skin | 混合性 | 混合皮 | 混油皮 | 混干皮
sensitive | sensitive skin | 敏感肌 | 敏感性 | 敏感皮肤 | 皮肤敏感 | 皮肤很敏感
damaged | damaged hair | 受损 | 受损发质 | 烫染受损
shockproof | shock proof | drop proof | drop-proof | more protective | extra protective | more protection | extra protection | better protection | heavy duty | heavy-duty | rugged | 防摔 | 防摔的 | 耐摔 | 抗摔 | 耐摔的
magnetic | magnet | magnets | magsafe | 磁吸 | 磁吸式
mini | short dress | 短款 | 短裙
midi | 中长款 | 中长
maxi | long dress | 长款 | 长裙
ankle | low cut | no show | 短筒 | 船袜
crew | 中筒
mesh | 网面 | 网布 | 网眼
4-piece set | 4 piece set | 4 piece | 4pc set | four piece set | 四件套
1 piece | single piece | 单件
extra large | xl size | 加大号 | 加大
1 | 1口 | 1 port | single port | one port | 单口
2 | 2口 | 2 ports | dual port | two ports | 双口
3 | 3口 | 3 ports | three ports | 三口
slim | 超薄 | 轻薄 | thin
aluminium | aluminum | 铝合金 | 铝
dishwasher safe | dishwasher-safe | dishwasher proof | dishwasher friendly | dishwasher ok | goes in the dishwasher | go in the dishwasher | in the dishwasher | into the dishwasher | 可洗碗机 | 能放洗碗机 | 可以放洗碗机 | 能进洗碗机 | 可以进洗碗机 | 进洗碗机 | 放洗碗机 | 洗碗机可用 | 洗碗机洗
black | 黑色 | 黑的 | 黑色的 | jet black | onyx | 纯黑 | 深黑
white | 白色 | 白的 | 白色的 | ivory | cream | off-white | off white | snow white | 米白 | 奶白 | 象牙白 | 乳白 | 纯白
red | 红色 | 红的 | 红色的 | burgundy | maroon | wine | wine red | crimson | scarlet | cherry red | 酒红 | 酒红色 | 枣红 | 暗红 | 大红
blue | 蓝色 | 蓝的 | 蓝色的 | navy | navy blue | royal blue | sky blue | light blue | dark blue | cobalt | 藏青 | 藏青色 | 藏蓝 | 海军蓝 | 深蓝 | 浅蓝 | 天蓝 | 宝蓝
green | 绿色 | 绿的 | 绿色的 | olive | army green | mint | mint green | sage | emerald | forest green | 军绿 | 墨绿 | 橄榄绿 | 薄荷绿 | 浅绿
yellow | 黄色 | 黄的 | 黄色的 | mustard | lemon | golden | 金黄 | 姜黄 | 柠檬黄
pink | 粉色 | 粉的 | 粉色系 | 粉红色 | 粉红 | rose | blush | fuchsia | magenta | hot pink | 玫红 | 玫瑰色 | 桃红
purple | 紫色 | 紫的 | 紫色的 | lilac | lavender | violet | plum | mauve | 淡紫 | 紫罗兰
orange | 橙色 | 橙的 | 橘色 | 橘黄色 | coral | peach | tangerine | rust | 珊瑚色 | 桔色
merino wool | merino | wool | woolen | woollen | wooly | 美利奴 | 羊毛
bamboo fibre | bamboo fiber | 竹纤维
wood | wooden | 木质 | 实木 | 木头
bamboo | 竹子 | 竹制 | 竹的 | 竹子的
waterproof | water proof | water-proof | rainproof | 防水
noise cancelling | noise canceling | noise-cancelling | noise-canceling | noise cancellation | noise cancelation | anc | 主动降噪 | 降噪
grey | gray | 灰色 | 灰 | charcoal | ash | slate | graphite | 深灰 | 浅灰 | 银灰 | 炭灰 | 烟灰
leather | 真皮 | 皮质 | 皮的
cotton | 全棉 | 棉质 | 棉的 | 棉 | 100% cotton | pure cotton
brown | 棕色 | 咖啡色 | tan | camel | chocolate | 驼色
beige | 米色 | nude | sand | 肤色
"""


def parse_groups(text: str, where: str = "synonyms") -> list[tuple[list[str], list[str]]]:
    """Groups from the file format (one group per line, ``|`` between words, ``#`` comments, ``>`` before the
    words of what they are a kind of): (words, broader words)."""
    groups = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        own, _, broader = line.partition(">")
        words = [w.strip() for w in own.split("|") if w.strip()]
        if len(words) < 2 and not broader.strip():
            raise ValidationError(f"{where}:{number}", "a group needs at least two words separated by |")
        groups.append((words, [w.strip() for w in broader.split("|") if w.strip()]))
    return groups


def store_groups(path: Path) -> list[tuple[list[str], list[str]]]:
    """A store's own groups (``HOME/synonyms.txt``), or none when the file does not exist."""
    return store_lines(path, parse_groups)


def store_lines(path: Path, parse: Callable[[str, str], list]) -> list:
    """A store's own word file parsed by ``parse(text, where)``, or nothing when the file does not exist."""
    if not path.exists():
        return []
    try:
        return parse(path.read_text(encoding="utf-8"), str(path))
    except UnicodeDecodeError:
        raise ValidationError(str(path), "not valid UTF-8") from None


def built_in_groups() -> list[tuple[list[str], list[str]]]:
    return parse_groups(BUILT_IN, "built-in synonyms")
