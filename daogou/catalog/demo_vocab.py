"""Vocabulary tables of the embedded demo store: categories, brands, materials, colours, specs, in English and Chinese.

Plain data only; :mod:`daogou.catalog.demo` turns it into products, shoppers and events. No colour word (in either
language) appears anywhere in these tables except in :data:`COLOURS`, so a product whose colour is left out of its
text really shows its colour only in its image. Brand names are invented.
"""

from __future__ import annotations

# English colour name -> (Chinese, RGB of the image fill). Names are lower case; titles capitalise them.
COLOURS: dict[str, tuple[str, tuple[int, int, int]]] = {
    "black": ("黑色", (28, 28, 32)),
    "white": ("白色", (250, 250, 250)),
    "grey": ("灰色", (128, 128, 128)),
    "red": ("红色", (210, 30, 40)),
    "orange": ("橙色", (245, 130, 20)),
    "yellow": ("黄色", (245, 210, 30)),
    "green": ("绿色", (40, 160, 60)),
    "blue": ("蓝色", (30, 90, 210)),
    "purple": ("紫色", (130, 50, 170)),
    "pink": ("粉色", (240, 140, 180)),
}
# Extra spellings a colour check should also catch (never used in generated text).
COLOUR_WORDS_EN = tuple(COLOURS) + ("gray",)
COLOUR_CHARS_ZH = ("黑", "白", "灰", "红", "橙", "黄", "绿", "蓝", "紫", "粉")

# Top-level category -> (Chinese, image shape).
TOP_LEVELS: dict[str, tuple[str, str]] = {
    "Shoes": ("鞋", "ellipse"), "Clothing": ("服装", "tshirt"), "Electronics": ("数码", "phone"),
    "Home": ("家居", "circle"), "Beauty": ("美妆", "triangle"), "Sports": ("运动", "diamond"),
    "Bags": ("箱包", "pentagon"), "Toys": ("玩具", "hexagon"),
}

# Chinese-styled brands: canonical (pinyin-like) name -> Chinese name. Other brands keep their Latin name in Chinese.
BRANDS_ZH: dict[str, str] = {
    "Feicheng": "飞骋", "Tachuan": "踏川", "Shantuo": "山拓", "Sujin": "素锦", "Rouhe": "柔禾", "Mianyue": "棉悦",
    "Xingyao": "星耀", "Lanqi": "澜启", "Hujie": "护界", "Shengmu": "声沐", "Xunneng": "迅能", "Chujiang": "厨匠",
    "Mianxiang": "眠享", "Yunqi": "云栖", "Xueyan": "雪颜", "Zhicui": "植萃", "Siyang": "丝漾", "Yuyue": "瑜悦",
    "Xingji": "行迹", "Lezhu": "乐筑",
}

MATERIALS: dict[str, str] = {
    "mesh": "网布", "knit": "针织", "leather": "皮革", "suede": "麂皮", "synthetic": "合成革", "cotton": "纯棉",
    "polyester": "聚酯纤维", "linen": "亚麻", "silk": "真丝", "chiffon": "雪纺", "modal": "莫代尔",
    "merino wool": "美利奴羊毛", "bamboo fibre": "竹纤维", "nylon": "尼龙", "glass": "玻璃", "aluminium": "铝合金",
    "ceramic": "陶瓷", "silicone": "硅胶", "TPU": "TPU", "polycarbonate": "聚碳酸酯", "plastic": "塑料",
    "stainless steel": "不锈钢", "cast iron": "铸铁", "bamboo": "竹制", "wood": "实木", "down": "羽绒",
    "microfibre": "超细纤维", "hyaluronic acid": "玻尿酸", "niacinamide": "烟酰胺", "ceramide": "神经酰胺",
    "aloe": "芦荟", "argan oil": "摩洛哥坚果油", "tea tree": "茶树", "coconut oil": "椰子油", "rosemary": "迷迭香",
    "natural rubber": "天然橡胶", "TPE": "TPE", "cork": "软木", "EVA foam": "EVA泡棉", "canvas": "帆布",
    "oxford cloth": "牛津布", "ABS plastic": "ABS塑料",
}

SIZES_ZH: dict[str, str] = {
    "One Size": "均码", "Standard": "标准", "Large": "大号", "Extra Large": "加大号", "Small": "小号", "Medium": "中号",
    "Single": "单人", "Double": "双人", "King": "特大",
}

# Category-specific attributes: key -> {"zh": value -> Chinese (missing: same), "en"/"zh_s": description sentence,
# "title": whether the value goes into the title}. {v} is the value, {V} the capitalised value.
SPECS: dict[str, dict] = {
    "cushioning": {"zh": {"light": "轻量", "balanced": "均衡", "max": "强"}, "title": False,
                   "en": "{V} cushioning for everyday runs.", "zh_s": "{v}缓震，适合日常跑步。"},
    "waterproof": {"zh": {"yes": "防水", "no": "透气"}, "title": False,
                   "en": "Waterproof: {v}.", "zh_s": "{v}设计，适合户外徒步。"},
    "length": {"zh": {"mini": "短款", "midi": "中长款", "maxi": "长款"}, "title": True,
               "en": "A {v} cut that is easy to wear.", "zh_s": "{v}版型，上身好看。"},
    "sleeve": {"zh": {"sleeveless": "无袖", "short": "短袖", "long": "长袖"}, "title": False,
               "en": "Sleeve: {v}.", "zh_s": "{v}设计。"},
    "fit": {"zh": {"regular": "常规", "slim": "修身", "oversized": "宽松"}, "title": False,
            "en": "{V} fit.", "zh_s": "{v}版型。"},
    "pack": {"zh": {"3 pairs": "3双装", "5 pairs": "5双装", "6 pairs": "6双装"}, "title": True,
             "en": "Pack of {v}.", "zh_s": "{v}，日常替换。"},
    "height": {"zh": {"ankle": "短筒", "crew": "中筒"}, "title": False,
               "en": "{V} height.", "zh_s": "{v}款式。"},
    "storage": {"zh": {}, "title": True, "en": "{v} of storage for apps and photos.", "zh_s": "{v}大存储，照片应用都装得下。"},
    "ram": {"zh": {}, "title": False, "en": "{v} RAM for smooth multitasking.", "zh_s": "{v}运行内存，多任务流畅。"},
    "feature": {"zh": {"shockproof": "防摔", "magnetic": "磁吸", "slim": "轻薄"}, "title": True,
                "en": "{V} design protects your phone.", "zh_s": "{v}设计，保护手机。"},
    "battery": {"zh": {"20h": "20小时", "30h": "30小时", "40h": "40小时"}, "title": False,
                "en": "Up to {v} of battery life.", "zh_s": "续航长达{v}。"},
    "noise_cancelling": {"zh": {"yes": "主动降噪", "no": "通透模式"}, "title": False,
                         "en": "Active noise cancelling: {v}.", "zh_s": "支持{v}。"},
    "power": {"zh": {}, "title": True, "en": "{v} fast charging.", "zh_s": "{v}快充。"},
    "ports": {"zh": {"1": "1口", "2": "2口", "3": "3口"}, "title": False,
              "en": "{v} charging port(s).", "zh_s": "{v}输出。"},
    "dishwasher_safe": {"zh": {"yes": "可以", "no": "不建议"}, "title": False,
                        "en": "Dishwasher safe: {v}.", "zh_s": "洗碗机清洗：{v}。"},
    "pieces": {"zh": {"4-piece set": "四件套", "1 piece": "单件", "300 pcs": "300片", "500 pcs": "500片",
                      "1000 pcs": "1000片", "2000 pcs": "2000片"}, "title": True,
               "en": "Includes {v}.", "zh_s": "含{v}。"},
    "skin_type": {"zh": {"dry": "干性", "oily": "油性", "combination": "混合性", "sensitive": "敏感性"},
                  "title": False, "en": "Suits {v} skin.", "zh_s": "适合{v}肌肤。"},
    "hair_type": {"zh": {"dry": "干性", "oily": "油性", "damaged": "受损", "all": "所有"}, "title": False,
                  "en": "For {v} hair.", "zh_s": "适合{v}发质。"},
    "grip": {"zh": {"non-slip": "防滑", "standard": "普通"}, "title": False,
             "en": "{V} grip for steady poses.", "zh_s": "{v}纹理，动作更稳。"},
    "capacity": {"zh": {}, "title": True, "en": "{v} capacity for daily carry.", "zh_s": "{v}容量，日常通勤够用。"},
    "age": {"zh": {"6+": "6岁以上", "8+": "8岁以上", "12+": "12岁以上"}, "title": False,
            "en": "Recommended age {v}.", "zh_s": "适合{v}。"},
}

# One entry per leaf category. "nouns": (English, Chinese) product types; "query": (English, Chinese) search terms;
# "price": (lowest, budget upper, mid upper, highest) in CNY; "size_en"/"size_zh": how a size shows in a title;
# "noun_materials": materials of one product type where it differs from the category's.
CATEGORIES: list[dict] = [
    {"path": ("Shoes", "Running"), "leaf_zh": "跑鞋", "nouns": [("Running Shoes", "跑鞋")],
     "query": [("running shoes", "跑鞋"), ("shoes for running", "跑步鞋")],
     "brands": ["Lumora", "Strydo", "Aerofeld", "Feicheng", "Korvo", "Tachuan"], "price": (199, 399, 799, 1499),
     "materials": ["mesh", "knit", "leather", "synthetic"], "sizes": [str(s) for s in range(36, 46)],
     "size_en": "Size {}", "size_zh": "{}码", "specs": {"cushioning": ["light", "balanced", "max"]}},
    {"path": ("Shoes", "Hiking"), "leaf_zh": "登山鞋", "nouns": [("Hiking Boots", "登山靴"), ("Hiking Shoes", "徒步鞋")],
     "query": [("hiking boots", "登山鞋"), ("hiking shoes", "徒步鞋")],
     "brands": ["Trailcrest", "Ridgeon", "Shantuo", "Korvo", "Alpwick"], "price": (259, 499, 999, 1999),
     "materials": ["leather", "suede", "mesh", "synthetic"], "sizes": [str(s) for s in range(37, 46)],
     "size_en": "Size {}", "size_zh": "{}码", "specs": {"waterproof": ["yes", "no"]}},
    {"path": ("Clothing", "Dresses"), "leaf_zh": "连衣裙",
     "nouns": [("Dress", "连衣裙"), ("Shirt Dress", "衬衫裙"), ("Slip Dress", "吊带裙")],
     "query": [("dress", "连衣裙"), ("summer dress", "夏季连衣裙")],
     "brands": ["Maisonelle", "Veraluxe", "Sujin", "Ondine", "Rouhe"], "price": (89, 199, 499, 1299),
     "materials": ["cotton", "linen", "silk", "chiffon", "polyester"], "sizes": ["XS", "S", "M", "L", "XL"],
     "size_en": "Size {}", "size_zh": "{}码", "specs": {"length": ["mini", "midi", "maxi"],
                                                       "sleeve": ["sleeveless", "short", "long"]}},
    {"path": ("Clothing", "T-Shirts"), "leaf_zh": "T恤",
     "nouns": [("T-Shirt", "T恤"), ("Graphic Tee", "印花T恤"), ("Polo Shirt", "Polo衫")],
     "query": [("t-shirt", "T恤"), ("tee", "短袖T恤")],
     "brands": ["Basivo", "Threadora", "Mianyue", "Korvo", "Nordvik", "Urbanet"], "price": (39, 79, 169, 399),
     "materials": ["cotton", "modal", "linen", "polyester"], "sizes": ["S", "M", "L", "XL", "XXL"],
     "size_en": "Size {}", "size_zh": "{}码", "specs": {"fit": ["regular", "slim", "oversized"]}},
    {"path": ("Clothing", "Socks"), "leaf_zh": "袜子",
     "nouns": [("Sports Socks", "运动袜"), ("Running Socks", "跑步袜"), ("Hiking Socks", "徒步袜")],
     "query": [("socks", "袜子"), ("sports socks", "运动袜")],
     "brands": ["Footly", "Comfra", "Mianyue", "Lumora", "Strydo"], "price": (15, 29, 59, 129),
     "materials": ["cotton", "merino wool", "bamboo fibre", "nylon"], "sizes": ["S", "M", "L"],
     "size_en": "Size {}", "size_zh": "{}码", "specs": {"pack": ["3 pairs", "5 pairs", "6 pairs"],
                                                       "height": ["ankle", "crew"]}},
    {"path": ("Electronics", "Phones"), "leaf_zh": "手机", "nouns": [("Smartphone", "智能手机")],
     "query": [("phone", "手机"), ("smartphone", "智能手机")],
     "brands": ["Vexa", "Orivo", "Zentra", "Xingyao", "Kairo", "Lanqi"], "price": (999, 1999, 3999, 6999),
     "materials": ["glass", "aluminium", "plastic"], "sizes": ['6.1"', '6.4"', '6.7"'],
     "size_en": "{}", "size_zh": "{}", "no_material_title": True,
     "specs": {"storage": ["128GB", "256GB", "512GB", "1TB"], "ram": ["8GB", "12GB", "16GB"]}},
    {"path": ("Electronics", "Phone Cases"), "leaf_zh": "手机壳", "nouns": [("Phone Case", "手机壳")],
     "query": [("phone case", "手机壳"), ("phone cover", "手机保护壳")],
     "brands": ["Vexa", "Shellgard", "Hujie", "Casora", "Armoro", "Orivo"], "price": (19, 39, 69, 129),
     "materials": ["silicone", "TPU", "polycarbonate", "leather"], "sizes": ['6.1"', '6.4"', '6.7"'],
     "size_en": "for {} phones", "size_zh": "适用{}手机", "specs": {"feature": ["shockproof", "magnetic", "slim"]}},
    {"path": ("Electronics", "Headphones"), "leaf_zh": "耳机",
     "nouns": [("Wireless Earbuds", "无线耳机"), ("Over-Ear Headphones", "头戴式耳机")],
     "query": [("headphones", "耳机"), ("wireless earbuds", "无线耳机")],
     "brands": ["Sonique", "Auralis", "Shengmu", "Kairo", "Tonvia", "Echolo"], "price": (99, 299, 899, 2499),
     "materials": ["plastic", "aluminium", "silicone"], "sizes": ["One Size"], "size_en": "", "size_zh": "",
     "no_material_title": True, "specs": {"battery": ["20h", "30h", "40h"], "noise_cancelling": ["yes", "no"]}},
    {"path": ("Electronics", "Chargers"), "leaf_zh": "充电器",
     "nouns": [("Fast Charger", "快充充电器"), ("Wireless Charger", "无线充电器")],
     "query": [("charger", "充电器"), ("fast charger", "快充头")],
     "brands": ["Voltiq", "Ampora", "Xunneng", "Vexa", "Chargo"], "price": (29, 69, 149, 299),
     "materials": ["plastic", "aluminium"], "sizes": ["One Size"], "size_en": "", "size_zh": "",
     "no_material_title": True, "specs": {"power": ["20W", "33W", "65W", "100W"], "ports": ["1", "2", "3"]}},
    {"path": ("Home", "Kitchen"), "leaf_zh": "厨房用品",
     "nouns": [("Frying Pan", "炒锅"), ("Knife Set", "刀具套装"), ("Cutting Board", "砧板"),
               ("Spatula Set", "锅铲套装"), ("Insulated Bottle", "保温杯")],
     "query": [("kitchen", "厨房用品"), ("cookware", "厨具")],
     "brands": ["Panora", "Kettly", "Chujiang", "Steelwise", "Cucina Viva"], "price": (29, 99, 249, 799),
     "materials": ["stainless steel", "cast iron", "ceramic", "bamboo", "wood"],
     "noun_materials": {"Frying Pan": ["cast iron", "stainless steel", "ceramic"], "Cutting Board": ["bamboo", "wood"],
                        "Knife Set": ["stainless steel", "ceramic"], "Spatula Set": ["silicone", "wood", "bamboo"],
                        "Insulated Bottle": ["stainless steel"]},
     "sizes": ["Small", "Medium", "Large"], "size_en": "{}", "size_zh": "{}",
     "specs": {"dishwasher_safe": ["yes", "no"]}},
    {"path": ("Home", "Bedding"), "leaf_zh": "床上用品",
     "nouns": [("Duvet Cover Set", "被套"), ("Pillow", "枕头"), ("Blanket", "毛毯")],
     "query": [("bedding", "床上用品"), ("bed sheets", "床品")],
     "brands": ["Dormio", "Lunasoft", "Mianxiang", "Feathery", "Yunqi"], "price": (79, 199, 499, 1499),
     "materials": ["cotton", "linen", "silk", "down", "microfibre"], "sizes": ["Single", "Double", "King"],
     "noun_materials": {"Pillow": ["down", "microfibre", "cotton"], "Blanket": ["microfibre", "merino wool", "cotton"]},
     "size_en": "{}", "size_zh": "{}", "specs": {"pieces": ["4-piece set", "1 piece"]}},
    {"path": ("Beauty", "Skincare"), "leaf_zh": "护肤",
     "nouns": [("Face Cream", "面霜"), ("Serum", "精华液"), ("Cleanser", "洁面乳"), ("Toner", "爽肤水")],
     "query": [("skincare", "护肤品"), ("face cream", "面霜")],
     "brands": ["Aquelle", "Dermaya", "Xueyan", "Puressa", "Zhicui"], "price": (39, 129, 399, 1299),
     "materials": ["hyaluronic acid", "niacinamide", "ceramide", "aloe"], "sizes": ["30ml", "50ml", "100ml"],
     "size_en": "{}", "size_zh": "{}", "specs": {"skin_type": ["dry", "oily", "combination", "sensitive"]}},
    {"path": ("Beauty", "Hair Care"), "leaf_zh": "洗护发",
     "nouns": [("Shampoo", "洗发水"), ("Conditioner", "护发素"), ("Hair Mask", "发膜")],
     "query": [("shampoo", "洗发水"), ("hair care", "洗护发")],
     "brands": ["Silkora", "Folliq", "Siyang", "Lustrae", "Zhicui"], "price": (25, 59, 129, 299),
     "materials": ["argan oil", "tea tree", "coconut oil", "rosemary"], "sizes": ["300ml", "500ml", "750ml"],
     "size_en": "{}", "size_zh": "{}", "specs": {"hair_type": ["dry", "oily", "damaged", "all"]}},
    {"path": ("Sports", "Yoga"), "leaf_zh": "瑜伽",
     "nouns": [("Yoga Mat", "瑜伽垫"), ("Yoga Block", "瑜伽砖"), ("Yoga Strap", "瑜伽伸展带")],
     "query": [("yoga", "瑜伽用品"), ("yoga mat", "瑜伽垫")],
     "brands": ["Zenora", "Asanu", "Yuyue", "Balancea", "Lotiva"], "price": (29, 79, 199, 599),
     "materials": ["natural rubber", "TPE", "cork", "EVA foam", "cotton"],
     "noun_materials": {"Yoga Mat": ["natural rubber", "TPE", "cork"], "Yoga Block": ["cork", "EVA foam", "bamboo"],
                        "Yoga Strap": ["cotton", "nylon"]},
     "sizes": ["Standard", "Large", "Extra Large"], "size_en": "{}", "size_zh": "{}",
     "specs": {"grip": ["non-slip", "standard"]}},
    {"path": ("Bags", "Backpacks"), "leaf_zh": "双肩包",
     "nouns": [("Backpack", "双肩包"), ("Laptop Backpack", "电脑双肩包"), ("Hiking Backpack", "登山包")],
     "query": [("backpack", "双肩包"), ("rucksack", "背包")],
     "brands": ["Roamy", "Voyago", "Xingji", "Trailcrest", "Packora"], "price": (59, 149, 399, 999),
     "materials": ["nylon", "canvas", "oxford cloth", "polyester"], "sizes": ["Small", "Medium", "Large"],
     "size_en": "{}", "size_zh": "{}", "specs": {"capacity": ["15L", "20L", "25L", "30L", "40L"]}},
    {"path": ("Toys", "Building Blocks"), "leaf_zh": "积木",
     "nouns": [("Building Block Set", "积木套装"), ("Brick Car Kit", "拼装汽车积木"), ("Brick Castle", "城堡积木")],
     "query": [("building blocks", "积木"), ("brick set", "拼装积木")],
     "brands": ["Blokku", "Brikka", "Lezhu", "Stacko", "Buildora"], "price": (49, 149, 499, 1999),
     "materials": ["ABS plastic", "wood"], "sizes": ["Small", "Medium", "Large"], "size_en": "{}", "size_zh": "{}",
     "specs": {"pieces": ["300 pcs", "500 pcs", "1000 pcs", "2000 pcs"], "age": ["6+", "8+", "12+"]}},
]

# Co-purchase rules: (category A leaf, noun A or None, category B leaf, noun B or None, number of pairs).
CO_PURCHASE_RULES: list[tuple[str, str | None, str, str | None, int]] = [
    ("Phones", None, "Phone Cases", None, 6),
    ("Phones", None, "Chargers", None, 4),
    ("Running", None, "Socks", "Running Socks", 4),
    ("Hiking", None, "Socks", "Hiking Socks", 2),
    ("Hiking", None, "Backpacks", "Hiking Backpack", 2),
    ("Yoga", "Yoga Mat", "Yoga", "Yoga Block", 3),
    ("Headphones", None, "Chargers", None, 2),
    ("Skincare", None, "Hair Care", None, 2),
    ("T-Shirts", None, "Socks", "Sports Socks", 2),
    ("Kitchen", "Frying Pan", "Kitchen", "Spatula Set", 3),
]

# Description sentences; {brand}, {noun}, {material}, {Material}, {colour}, {size} are filled in.
SENT_EN = {
    "material": ["Made from {material}.", "Built from {material} to last.", "{Material} construction for daily use."],
    "colour": ["Finished in {colour}.", "This is the {colour} version.", "Comes in {colour}."],
    "size": ["Size: {size}.", "This listing is for size {size}."],
    "generic": ["A {brand} favourite for everyday use.", "Designed by {brand}.", "Great value from {brand}.",
                "Easy to care for.", "Ships within 48 hours."],
}
SENT_ZH = {
    "material": ["采用{material}材质。", "{material}材质，经久耐用。", "精选{material}，日常好用。"],
    "colour": ["{colour}款。", "本款为{colour}。", "颜色：{colour}。"],
    "size": ["尺码：{size}。", "规格：{size}。"],
    "generic": ["{brand}出品，日常好用。", "{brand}品质之选。", "性价比之选。", "易打理。", "48小时内发货。"],
}
