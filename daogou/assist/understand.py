"""What a chat message asks for, in the context of the conversation so far. Pure: no I/O, no models.

The search's query parser (:func:`daogou.search.query.parse_query`) already reads prices, categories, brands
(wanted and excluded), attribute values and sort words in English and Chinese. On top of it this module reads
what only makes sense in a conversation: relative price moves ("cheaper", "便宜一点"), references to products
already shown ("the second one", "第二个", "compare the first two"), starting over, and whether a message is
too vague to search at all ("a gift").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from daogou.assist.answers import asked, has_values, implied_keys, key_word_spans, strip_quantities, superlative
from daogou.catalog.models import Product
from daogou.search.coverage import content_words
from daogou.search.normalize import normalise_query
from daogou.search.query import ParsedQuery, parse_query
from daogou.search.vocab import Vocabulary

KINDS = ("search", "refine", "detail", "question", "compare", "reset", "clarify", "greet", "thanks", "service", "cart")

_GREET = re.compile(r"^\s*(?:(?:hi|hello|hey|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening|day))(?: there| you| guys|"
                    r" all)?|你好呀?|您好呀?|嗨|哈喽|在吗|在不在|有人吗)[\s!.,。！，~?？]*$", re.I)

# Thanks or goodbye, said alone: the conversation is not asking for products
_THANKS = re.compile(r"^\s*(?:(?:ok(?:ay)?|cool|great|perfect|awesome|nice|alright|got it|gotcha|that'?s (?:all|it|great|"
                     r"perfect|helpful)|all good|no(?:pe)?|nah)[\s,!.]*)*(?:thanks?(?: (?:a lot|so much|again|anyway|"
                     r"mate))?|thank (?:you|u)(?: (?:so much|very much|a lot))?|thx|ty|tysm|cheers|much appreciated|"
                     r"appreciate it|bye|bye bye|goodbye|good bye|see (?:you|ya)|cya|later|that'?s all(?: for now)?|"
                     r"i'?m good|i'?m done|nothing else|no thanks|that'?s it)[\s!.,~:)]*$|"
                     r"^\s*(?:好的|好|嗯|行|ok|okay)?[，,\s]*(?:谢谢(?:你|您|啦|了)?|多谢|谢啦|感谢|拜拜|再见|没事了|不用了|"
                     r"就这样吧?|先这样吧?|好的知道了|知道了)[\s!！。~]*$", re.I)
# The store's own policies, which no product states: returns, shipping, payment, warranty terms
_SERVICE = re.compile(r"(?<![a-z])(?:return policy|returns? policy|refunds?|return (?:it|them|an item|something)|"
                      r"exchange policy|shipping|delivery|deliver|ship to|track(?:ing)? (?:my )?order|my order|"
                      r"payment methods?|pay with|paypal|alipay|wechat pay|cash on delivery|coupon|discount code|"
                      r"promo code|customer service|opening hours|store hours)(?![a-z])|退货|退款|换货|发货|快递|"
                      r"包邮|运费|配送|物流|订单|付款方式|支付宝|微信支付|优惠券|客服|几天到", re.I)
_CHEAPER = re.compile(r"(?<![a-z])(?:cheaper|cheeper|cheper|chaeper|less expensive|lower price[sd]?|more affordable|too expensive|"
                      r"too pricey|something cheaper|budget ones?|(?:still|a bit|bit|kinda|kind of|a little|rather|"
                      r"quite|pretty|way|so|really|too)\s+(?:pricey|expensive|dear|steep))(?![a-z])|"
                      r"还是(?:有点|太|很|挺)?贵|有点贵|偏贵|便宜(?:一)?[点些]|更便宜|再便宜|太贵|"
                      r"便宜的|价格低一?[点些]|低价")
_PRICIER = re.compile(r"(?<![a-z])(?:pricier|more expensive|higher[- ]end|more premium|too cheap|upmarket)"
                      r"(?![a-z])|贵一?[点些]|更贵|高端一?[点些]|好一?[点些]的|太便宜")
_RESET = re.compile(r"(?<![a-z])(?:start (?:over|again|afresh|from scratch)|reset|new search|clear (?:it|all|everything|"
                    r"the search)|forget (?:it all|all that|everything)|from scratch|begin again)(?![a-z])|^\s*(?:clear|"
                    r"forget it)\s*[.!]?\s*$|重新开始|重新来|重来|清空|换个话题|从头(?:开始|来)", re.I)
_COMPARE = re.compile(r"(?<![a-z])(?:compare|comparison|versus|vs\.?|difference|differences|which is better|"
                      r"which one is better|side by side)(?![a-z])|比较|对比|比一比|比一下|比比|区别|哪个好|哪个更好|pk", re.I)
_VAGUE = re.compile(r"(?<![a-z])(?:gifts?|presents?|something|somethin|smth|sth|anything|ideas?|surprise|recommend(?: me)?|"
                    r"suggest(?:ion)?s?|help me|what should i (?:buy|get)|what (?:do|would) you (?:suggest|recommend)|"
                    r"what (?:to|do|can|could|would|should) (?:i |u |you |we )?(?:get|buy|give)|"
                    r"birthday|anniversary|christmas|shopping)(?![a-z])|生日|纪念日|礼物|送人|送给|买点|推荐|"
                    r"随便|有什么好|买什么|东西|(?:送|买)(?:点|个|些)?(?:什么|啥)|什么(?:好|合适|比较好)", re.I)
_OCCASION = re.compile(r"birthday|anniversary|christmas|生日|纪念日|(?:dad|mom|mum|father|mother|wife|husband|son|"
                       r"daughter|friend|boyfriend|girlfriend|bf|gf)'?s?", re.I)
_FILLER = re.compile(r"(?<![a-z])(?:i|i'm|im|i'd|id|a|an|the|some|me|my|for|to|want|wanna|need|needs|looking|look|"
                     r"buy|get|please|pls|plz|thanks|thx|ok|okay|hmm|um|uh|actually|maybe|just|also|only|really|"
                     r"then|now|instead|rather|how|about|what|show|find|can|could|you|would|like|good|nice|new|one|"
                     r"ones|it|this|that|those|these|them|they|with|and|or|of|in|on|is|are|do|does|have|has|got|"
                     r"any|anything|something|somethin|smth|sth|stuff|let's|lets|see|try|go|prefer|preferably|still|but|so|yeah|yes|"
                     r"no|not|too|more|less|options?|there|else|other|again|well|even|much|price|prices|budget|"
                     r"tryna|gimme|lemme|gotta|kinda|sorta|hey|hi)(?![a-z])|我|想|要|买|给|一个|一件|一些|一款|个|款|的|吗|"
                     r"呢|请|帮|找|看看|看|还是|那|那就|就|再|吧|呀|啊|哦|嗯|一下|有没有|有|来|换成|换|改成|的话|一点|点|了|哈|"
                     r"嘛|麻烦|谢谢|好的|可以|算了|还有|其他|别的|也|都|行|呗|这种|那种|预算|价格|价位|左右", re.I)
# A gift or a need for someone: an occasion, the word gift, or a person to buy for. Said without a kind of product
# it is a new need however it is phrased ("something for my mom", "送女朋友的", "a gift for my boss, under 300").
_PERSON_EN = (r"mom|mum|mother|mama|mommy|dad|father|papa|daddy|parents|wife|wifey|husband|hubby|gf|bf|girlfriend|"
              r"boyfriend|partner|fianc[eé]e?|spouse|son|daughter|kids?|child|children|baby|toddler|teen|teenager|"
              r"brother|bro|sister|sis|aunt|auntie|uncle|niece|nephew|cousin|grandma|grandpa|granny|nana|"
              r"grandmother|grandfather|grandparents|grandson|granddaughter|friend|bff|bestie|coworker|co-worker|"
              r"colleague|boss|manager|teacher|roommate|roomate|flatmate|neighbou?r|in-laws?|mother-in-law|"
              r"father-in-law|guy|girl|man|woman|lady|gentleman|someone|somebody|him|her")
_PERSON_ZH = (r"妈|妈妈|老妈|母亲|爸|爸爸|老爸|父亲|爸妈|父母|老婆|老公|媳妇|女朋友|男朋友|女友|男友|对象|儿子|女儿|孩子|"
              r"小孩|宝宝|哥|哥哥|姐|姐姐|弟|弟弟|妹|妹妹|闺蜜|兄弟|朋友|同事|领导|老板|老师|侄子|侄女|小侄子|外甥|外甥女|"
              r"表妹|表弟|表哥|表姐|堂弟|堂妹|奶奶|爷爷|外婆|外公|姥姥|姥爷|婆婆|公公|岳母|岳父|丈母娘|长辈|家人|室友|邻居|亲戚")
_PERSON = re.compile(r"(?:" + _PERSON_EN + r")(?:'s|s)?|" + _PERSON_ZH, re.I)
# Someone spoken of: answering "who is it for?" with "she likes cooking" or "他喜欢爬山" tells about the person
_SOMEONE = re.compile(r"(?<![a-z])(?:" + _PERSON_EN + r"|he|she|they|his|hers|he's|she's|they're)(?:'s)?(?![a-z])|"
                      r"[他她]|" + _PERSON_ZH, re.I)
# A message that tells of a person's ways: someone spoken of ("grandpa always complains…", "她每天都要敷面膜"), a
# habit ("keeps dropping her phone", "老是没电"), one's own new pastime ("i just started running", "我最近开始徒步了")
# or a question of what someone would want ("what would a keen home baker want?")
TELLS = re.compile(_SOMEONE.pattern + r"|(?<![a-z])(?:always|keeps?|constantly|all the time|every (?:day|morning|"
                   r"evening|night|week|weekend|summer|winter)|(?:i|we)(?:'ve| have)? (?:just |recently )?(?:started|"
                   r"start|got into|took up|taken up|picked up)|(?:i'm|im|i am|we're) (?:into|getting into|starting|"
                   r"learning|training)|getting into|(?:want|going) to start|what (?:would|do|does|should|could|can|to) (?:you |u |i |one )?"
                   r"(?:get|buy|give|gift)|what (?:would|do|does|might) (?:a|an|my|your|his|her) [\w' -]{1,30} (?:want|like|"
                   r"need|love|use))(?![a-z])|老是|总是|经常|每天|每周|天天|"
                   r"开始|迷上|爱上|喜欢", re.I)
_GIFT = re.compile(r"(?<![a-z])(?:gifts?|presents?|bday|b-day|birthday|anniversary|christmas|xmas|valentine'?s?|"
                   r"mother'?s day|father'?s day|housewarming|graduation|secret santa|stocking stuffers?)(?![a-z])|"
                   r"(?<![a-z])(?:for|get|buy|to) (?:my |a |our |his |her |the )?(?:little |big |older |younger |"
                   r"\d+ ?(?:yo|y/o|year old) )?(?:" + _PERSON_EN + r")(?:'s)?(?![a-z])|"
                   r"礼物|生日|纪念日|节日?礼|过节|圣诞|情人节|七夕|母亲节|父亲节|教师节|春节|过年|送(?:给|人|点|个|她|他|我|"
                   r"老|女|男|妈|爸|闺|朋|同|领|长|小|孩|宝|哥|姐|弟|妹|奶|爷|外|婆|公|岳|亲|媳|对象|室友|邻居)|"
                   r"给(?:我)?(?:妈|爸|老婆|老公|媳妇|女朋友|男朋友|女友|男友|对象|儿子|女儿|孩子|小孩|宝宝|哥|姐|弟|妹|"
                   r"闺蜜|兄弟|朋友|同事|领导|老板|老师|侄|外甥|表|堂|奶奶|爷爷|外婆|外公|姥|婆婆|公公|岳|长辈|家人|父母|室友)",
                   re.I)
_SAME_KIND = re.compile(r"(?<![a-z])(?:one|ones|a pair|another pair|the same|same kind)(?![a-z])|同款|一样的|也来一|"
                        r"也要一|再来一", re.I)
# More of the same: the current need, other products than those shown.
_MORE = re.compile(r"(?<![a-z])(?:something else|anything else|other (?:ones|options|choices|picks|stuff)|"
                   r"more (?:options|choices|ideas|picks|like (?:this|that|these|those))|show (?:me )?more|"
                   r"what else|else (?:do you have|have you got)|any more|anymore|next (?:page|ones?)|"
                   r"different ones)(?![a-z])|别的|其他的?|其它的?|换一批|换一些|还有吗|还有呢|更多|再来[几一]?[个款些]",
                   re.I)
# A card (or all of them) turned down: "not a fan of the first one", "dont like any of these", "第一个不喜欢"
_DISLIKE = re.compile(r"(?<![a-z])(?:not (?:a |really a |much of a )?(?:fan|keen|into|crazy about|sold on)|(?:don'?t|dont|do not|"
                      r"didn'?t|didnt) (?:really |much )?(?:like|love|fancy|dig)|dislike|hate|not (?:for me|my (?:style|"
                      r"taste|thing|cup of tea)))(?![a-z])|不(?:太|怎么|是很)?喜欢|不中意|看不上|不好看", re.I)
_AVAILABILITY = re.compile(r"(?<![a-z])(?:do (?:you|u|ya) (?:have|sell|carry)|have (?:you|u) got|(?:you|u) got|got any|any(?! good| use| better| help| decent| worth)|"
                           r"anything|something|is there|"
                           r"are there|available in|in (?:a |an )?(?:other|different)|none of (?:these|those|them)|"
                           r"not (?:these|those))(?![a-z])|有没有|有.{0,12}吗|还有|有木有|都不喜欢|都不要|不喜欢这些", re.I)
# Only a product named, after a question: "那第二个呢", "and the second one?" ask the same of that one
ELLIPSIS = re.compile(r"^\W*(?:(?:and|what about|how about|same for|and for|那|那么|还有|那么)\W*)?(?:the )?"
                      r"(?:first|second|third|fourth|fifth|sixth|last|\d(?:st|nd|rd|th)|#\d|number \d|"
                      r"第[一二三四五六七八九十\d]+[个款件双]?|最后一[个款件]|这个|那个|这款|那款)(?: one)?\s*"
                      r"(?:呢|怎么样呢)?[\s?？。.!！]*$", re.I)
_DESCRIBED = re.compile(r"^\W*(?:(?:hmm+|ok(?:ay)?|well|so|maybe|actually|i'?d like|i want|i need|show me|got|do you "
                        r"have|is there|any)\W+)*(?:something|anything|sth|smth|ones?)(?:\W+(?:a bit|a little|more|"
                        r"really|very|super|kinda|that'?s|which is|that is))*\W+(?!for\b|to give\b|as a\b)[a-z]",
                        re.I)
# "适合三岁小孩玩的有吗", "suitable for a 3 year old?": who the kind on show is for, said of it
_SUITED = re.compile(r"^\W*(?:(?:那|那么|有没有|有)\W*)?(?:适合|适用于?|适用)|^\W*(?:any |ones? |something )?(?:suitable|"
                     r"good|ok|okay|safe|right) for(?![a-z])", re.I)
_ZH_HAVE = re.compile(r"有没有|有木有|有卖|卖不卖|有.{1,10}吗")
_ZH_DESCRIBED_END = re.compile(r"的\s*(?:吗|呢|么|没)?\s*[?？。!！~]*\s*$")
_WHAT_ABOUT = re.compile(r"^\W*(?:(?:and|so|ok|okay|hmm|then|but)\W+)*(?:what|how) about(?![a-z])", re.I)
# Products like one on show: "anything similar to the second one", "more like the first one", "类似第二个的"
_LIKE = re.compile(r"(?<![a-z])(?:similar(?: ones?| stuff| products?| items?| to)?|(?:more|something|anything|others?|"
                   r"ones?|stuff|some) (?:just )?like (?:the|that|this|it|these|those|#|number|no\.|\d)|(?:the )?same "
                   r"(?:style|kind|type|sort) as|alternatives?(?: to)?|along the lines of)(?![a-z])|类似|相似|同类|"
                   r"像(?:第|这|那|它)|(?:跟|和|与)(?:第|这|那|它).{0,6}(?:差不多|一样|类似|相似)", re.I)
# The budget dropped: "forget the budget", "price doesn't matter", "预算不限", "价格无所谓"
_NO_BUDGET = re.compile(r"(?<![a-z])(?:(?:forget|ignore|drop|remove|scrap|lose|ditch|skip|never ?mind|don'?t worry "
                        r"about|no need for|get rid of)(?: about)? (?:the |my |a |that |any )?(?:budget|price(?: limit| cap|"
                        r" range| filter)?|limit|cap|max(?:imum)?)|no (?:budget|price)(?: limit| cap| range)?|"
                        r"without (?:a |the |any )?(?:budget|price limit|price cap|limit)|(?:any|whatever) (?:price|"
                        r"budget)(?: is (?:fine|ok|okay|good)| works)?|(?:price|budget|cost|money)(?: really| honestly)? "
                        r"(?:doesn'?t|does not|don'?t|won'?t) matter|money(?:'s| is) no object|(?:budget|price) is no "
                        r"(?:object|issue|problem)|unlimited budget|sky'?s the limit|regardless of (?:the )?(?:price|"
                        r"cost)|not worried about (?:the )?(?:price|budget|cost))(?![a-z])|预算不限|不限预算|不限价格?|"
                        r"价格不限|价钱不限|不管价格|不管多少钱|不管贵不贵|价格无所谓|价钱无所谓|预算无所谓|"
                        r"多少钱都(?:行|可以|无所谓)|钱不是问题|不差钱|不考虑价格|价格不是问题|预算不是问题|多贵都(?:行|可以)|"
                        r"去掉预算|取消预算|不要预算限制|没有预算限制?", re.I)
# Asked of the products on show together: "are these any good for wide feet?", "这些适合带去爬山吗"
THESE = re.compile(r"(?<![a-z])(?:these|those|they|them)(?![a-z])|这些|那些|这几[个款双件]?|它们", re.I)
# … as what the question is about, at its start ("are these …", "would those …", "这些适合…"), not "to go with them"
# a message that is only what the kind on show is for: "for running", "mainly for hiking", "跑步用的", "适合登山的"
_PURPOSE_ONLY = re.compile(r"^\W*(?:(?:and|but|ok|okay|maybe|preferably|ideally|mainly|mostly|just|something|ones?|"
                           r"any|some)\s+)*(?:for|used for|to use for|good for|meant for|suitable for)\s+(?:\w+\s*){1,2}"
                           r"[.!?]*$|^\W*(?:适合|用来|用于|平时)?\S{1,4}(?:用的|穿的)[吗呢]?[。？?！!]*$|^\W*适合\S{1,4}的?[吗呢]?[。？?！!]*$",
                           re.I)
_WHICH_HAVE = re.compile(r"(?<![a-z])(?:which|what) (?:ones?|of (?:these|those|them)|ones? of (?:these|those|them)|"
                         r"models?|pairs?)\s+(?:have|has|are|is|come|comes|do|does|can|support|supports|got)(?![a-z])|"
                         r"(?<![a-z])(?:do|does|are|is) any of (?:these|those|them)(?![a-z])|"
                         r"哪(?:几|些)(?:个|款|双|件)?(?:是|有|带|支持|能|可以)|哪(?:个|款|双|件)(?:是|有|带|支持)|有哪(?:几|些)")
_THESE_ASKED = re.compile(r"^\W*(?:(?:so|and|but|ok|okay|hmm|well|also|then)\W+)*(?:(?:are|were|would|will|do|does|"
                          r"did|can|could|r|should|might|how|what)\W+(?:about\W+)?)?(?:all\W+)?(?:of\W+)?"
                          r"(?:these|those|they)(?![a-z])|^\W*(?:那|嗯|好吧)?[，,\s]*(?:这些|那些|这几[个款双件]?|它们)",
                          re.I)
# Take one: "add the first one to my cart", "i'll take it", "第三个加入购物车", "就要第一个了，帮我下单"
_CART = re.compile(r"(?<![a-z])(?:add (?:it|this|that|them|both|this one|that one|the [a-z0-9#]+(?: one)?|"
                   r"(?:number |#|no\. ?)\d{1,2})? ?(?:to|in|into) (?:my |the )?(?:cart|basket|trolley)|"
                   r"(?:i'?ll|i will|let me|let'?s|gonna|i'?d like to|i want to|i wanna) (?:take|buy|get|order|grab) "
                   r"(?:(?:one|two|three|four|five|a couple|a pair|[1-9])(?: pairs?)? (?:of )?)?"
                   r"(?:it|this|that|them|both|this one|that one|the [a-z0-9#]+(?: one)?)|(?:buy|order|purchase) "
                   r"(?:it|this one|that one|the [a-z0-9#]+ one)(?: now| please)?|(?:put|throw) (?:it|this|that|"
                   r"the [a-z0-9#]+(?: one)?) in (?:my |the )?(?:cart|basket)|check ?out)(?![a-z])|"
                   r"^\W*(?:(?:ok|okay|great|cool|nice|perfect|yes|yeah|alright)\W+)?(?:add|grab) (?:it|this|that|this one|"
                   r"that one|the [a-z0-9#]+ one)(?: please| pls| plz)?\W*$|"
                   r"加(?:入|进|到)?购物车|加购|放(?:进|入|到)购物车|下单|就要(?:这|那|第|它)|帮我买(?:这|那|第|它)|"
                   r"买(?:这|那)(?:个|款)|^\W*(?:我|那|那就|就)?(?:买|要|拿|选)第[一二三四五六七八九十\d]+(?:个|款|件|双)?"
                   r"(?:吧|了|好了)?\W*$|^\W*(?:那就|那|就)第[一二三四五六七八九十\d]+(?:个|款|件|双)?(?:吧|了|好了)\W*$|"
                   r"我要了|就它了|拍下", re.I)
_DETAIL = re.compile(r"(?<![a-z])(?:tell me (?:more|about)|more (?:info|information|details?)|details?|describe|"
                     r"what about|more about|show me|info on|specs?|what'?s it like|how is it|any good)(?![a-z])|介绍|"
                     r"详情|详细|说说|讲讲|具体|看看|怎么样|咋样|如何", re.I)
_BY_PRICE_REF = re.compile(r"(?<![a-z])(?:the )?(?P<low>cheaper|cheapest|less expensive|least expensive|lower[- ]priced|"
                           r"budget) (?:one|option|pick|model)(?!s)|(?<![a-z])(?:the )?(?P<high>pricier|priciest|"
                           r"more expensive|most expensive|higher[- ]end|premium) (?:one|option|pick|model)(?!s)|"
                           r"(?<![a-z])(?P<low2>cheapest|least expensive) of (?:those|these|them|the)|"
                           r"(?<![a-z])(?P<high2>priciest|most expensive) of (?:those|these|them|the)|"
                           r"(?P<zlow>(?:更|最)?便宜的?(?:那|这)一?[个款双件条只台部套瓶支张]|(?:那|这)一?[个款双件条只台部套瓶支张]?(?:更|最)便宜的|"
                           r"最便宜的(?=(?:是|有|吗|呢|能|可以|用|适合|多|什么|怎么)))|"
                           r"(?P<zhigh>(?:更|最)?贵的?(?:那|这)一?[个款双件条只台部套瓶支张]|(?:那|这)一?[个款双件条只台部套瓶支张]?(?:更|最)贵的|"
                           r"最贵的(?=(?:是|有|吗|呢|能|可以|用|适合|多|什么|怎么)))", re.I)

_EN_ORD = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5,
           "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
_ZH_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_EN_COUNT = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}

_FIRST_N_EN = re.compile(r"(?<![a-z])(?:the )?(?:first|top) (two|three|four|2|3|4)(?![a-z0-9])", re.I)
_FIRST_N_ZH = re.compile(r"前([两二三四2-4])(?:个|款|件|样)?")
_ORD_EN = re.compile(r"(?<![a-z])(?:the )?(" + "|".join(_EN_ORD) + r")(?: one| item| option| product)?(?![a-z])"
                     r"|(?:#|number |no\. ?|item |option |product )(\d{1,2})(?![0-9])", re.I)
_ORD_ZH = re.compile(r"第\s*([一二两三四五六七八九十]|\d{1,2})\s*(?:个|款|件|种|项|样)?|"
                     r"(?<![一二两三四五六七八九十\d第])([一二三四五六七八九十]|[1-9])\s*号(?!码|电池|线|店|楼|球)")  # 5号电池 is a battery
_AND_ZH = re.compile(r"(?<![一二两三四五六七八九十\d])([一二三四五六七八九])\s*号?\s*(?:和|与|跟|、)\s*(?:第)?([一二三四五六七八九])(?:号|个)?")
_LAST = re.compile(r"(?<![a-z])(?:the )?last (?:one|item|option)(?![a-z])|(?<![a-z])the last (?!time|week|year|month|"
                   r"night|day|minute|few|two|three|couple)[a-z][a-z-]+|(?<![a-z])the last\s*(?:$|[?.!,;])|最后一[个款件]",
                   re.I)
_DEMONSTRATIVE = re.compile(r"(?<![a-z])(?:this|that|these|those)(?![a-z])|[这那](?![里边儿些样么])", re.I)
_FOCUS_ZH = "这个|那个|这款|那款|它"
_FOCUS_STRONG = re.compile(r"(?<![a-z])(?:this one|that one|it)(?![a-z])|" + _FOCUS_ZH, re.I)
_FOCUS = re.compile(r"(?<![a-z])(?:this one|that one|this|that|it)(?![a-z])|" + _FOCUS_ZH, re.I)
_AND_NUM = re.compile(r"(?<![0-9#])(\d{1,2})\s*(?:and|&|和|与|跟|vs\.?)\s*(?:#|number )?(\d{1,2})(?![0-9])", re.I)


@dataclass
class Understanding:
    kind: str                                  # one of KINDS
    parsed: ParsedQuery
    language: str                              # "en" | "zh"
    refs: list[int] = field(default_factory=list)   # 0-based positions in the products shown last
    price_move: str | None = None              # "cheaper" | "pricier"
    vague: bool = False
    more: bool = False                         # "something else", "还有别的吗": the same need, other products
    inferred: bool = False                     # the category came from what the person likes, not from its name
    unserved: str = ""                         # an interest told that the store sells nothing for ("fishing")
    later: tuple[str, ...] = ()                # more kinds asked for in the same message, as said ("socks")
    having: tuple[tuple[str, str], ...] = ()   # "which ones have noise cancelling?": the values asked of every card
    purpose: str = ""                          # "for running" of the kind on show: words that describe it
    gift: bool = False                         # a gift or a need for someone ("for my mom", "送同事")
    most: str | None = None                    # "max" / "min": which shown product has the most / least of it
    pick: str | None = None                    # "cheapest" / "priciest": which shown product costs least / most
    unbounded: bool = False                    # "forget the budget": the need's price bounds are dropped
    these: bool = False                        # a question about all the products on show ("are these any good …")
    like: bool = False                         # products like the referenced (or focused) one ("similar to the 2nd")
    again: str = ""                            # the earlier question asked again of another product ("那第二个呢")
    other: str | None = None                   # "brand" / "color": the need in another one than the card in focus
    measure: str | None = None                 # "more" / "less": more (less) of a measure than the cards on show
    measure_keys: tuple[str, ...] = ()         # the attribute keys it can be, tried in order ("bigger": capacity …)
    said: str = ""                             # the message with the words that point at a card put as "it" ("the
                                               # blue ones, are they waterproof?" asks "it, are they waterproof?")


def language_of(message: str, parsed: ParsedQuery, default: str = "en") -> str:
    """The reply language: Chinese when the message is Chinese or mixes in Chinese words, else English."""
    if parsed.language == "zh" or re.search(r"[\u4e00-\u9fff]", message):
        return "zh"
    return "en" if parsed.language in ("en", "mixed") else default


def references(text: str, shown: int, prices: list[float | None] | None = None) -> list[int]:
    """0-based positions of the shown products a message points to ("the second one", "前两个", "1 and 3", and with
    the shown ``prices``: "the cheaper one", "贵的那个")."""
    if shown <= 0:
        return []
    low = _ordinal_typos(text.lower())
    refs: list[int] = []
    m = _BY_PRICE_REF.search(low)
    if m and prices and any(p is not None for p in prices[:shown]):
        priced = [(p, i) for i, p in enumerate(prices[:shown]) if p is not None]
        pick = min(priced) if (m.group("low") or m.group("low2") or m.group("zlow")) else max(priced)
        refs.append(pick[1])
    m = _FIRST_N_EN.search(low) or _FIRST_N_ZH.search(text)
    if m:
        word = m.group(1)
        n = _EN_COUNT.get(word) or _ZH_NUM.get(word) or int(word)
        refs = list(range(n))
    for a, b in _AND_NUM.findall(low):
        refs += [int(a) - 1, int(b) - 1]
    for word, num in _ORD_EN.findall(low):
        refs.append((_EN_ORD[word] if word else int(num)) - 1)
    for a, b in _AND_ZH.findall(text):
        refs += [_ZH_NUM[a] - 1, _ZH_NUM[b] - 1]
    for groups in _ORD_ZH.findall(text):
        tok = next(g for g in groups if g)
        refs.append((_ZH_NUM.get(tok) or int(tok)) - 1)
    if _LAST.search(low) or _LAST.search(text):
        refs.append(shown - 1)
    return [r for r in dict.fromkeys(refs) if 0 <= r < shown]


_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "last")


def _ordinal_typos(low: str) -> str:
    """"frist", "secnd", "lst" → first, second, last: one edit from an ordinal and not an English word itself
    ("list", "fast" stay)."""
    from rapidfuzz.distance import OSA
    from daogou.search.typos import is_english_word

    def fix(m: re.Match) -> str:
        word = m.group()
        if word in _ORDINAL_WORDS or is_english_word(word, zipf=3.5):  # "lst" (2.9) is chat shorthand
            return word
        near = [o for o in _ORDINAL_WORDS if OSA.distance(word, o) <= (1 if len(word) < 6 else 2)]
        return near[0] if len(near) == 1 else word
    return re.sub(r"(?<![a-z])[a-z]{3,7}(?![a-z])", fix, low)


def has_focus_word(text: str) -> bool:
    return bool(_FOCUS.search(text))


def understand(message: str, vocab: Vocabulary, shown: int = 0, asked_last_turn: bool = False,
               default_language: str = "en", shown_prices: list[float | None] | None = None,
               topic: tuple[str, ...] | None = None, rates: dict[str, float] | None = None,
               shown_products: Sequence[Product | None] = ()) -> Understanding:
    """Classify one message. ``shown``: how many products the last answer showed (``shown_prices``: their
    prices, ``shown_products``: the products themselves, which "the blue one" / "带降噪的那款" can point at);
    ``asked_last_turn``: the assistant's last turn was a clarifying question (never ask two in a row);
    ``topic``: the categories of the conversation so far (``None``: no topic yet)."""
    args = (vocab, shown, asked_last_turn, default_language, shown_prices, topic, rates)
    point = pointed(message, vocab, shown_products[:shown], topic or (), shown_prices) if shown_products else None
    if point is not None:  # "the blue ones look nice, tell me more", "橙色的那个加购物车": a card by what it has
        refs, rest, plural = point
        u = _understand(rest, *args, given=refs)
        # "the blue ones please" asks for blue ones; "the blue one", "the blue ones, tell me more" are that card
        if (u.kind in ("question", "cart", "compare") or (u.kind == "detail" and (
                not plural or _DETAIL.search(rest.lower())))) and u.refs[:len(refs)] == refs:
            u.said = rest
            return u
    return _understand(message, *args)


# A card pointed at by what it has: "the blue ones", "the Trailcrest ones", "the 65w one", "the one with noise
# cancelling", "the pink tee" (the kind's own word for "one"), "绿色那双", "带降噪的那款", "那个蓝色的", "黑色款", "绿色的双肩包"
_ONE_EN = r"ones?|pairs?"
_ONE_ZH = r"[那这](?:个|款|双|条|件|只|套|台|把|瓶|支|部|张|顶|盒)"
_POINT_AFTER_EN = re.compile(r"(?<![a-z])(?:the|that|those)\s+(?:ones?|pairs?)\s+(?:with|in|from|that (?:has|have|is|are)|"
                             r"which (?:has|have|is|are))\s+(?P<what>[^,.;:!?]+?)(?=\s*(?:[,.;:!?]|-\s|$|\s(?:is|are|"
                             r"does|do|has|have|look|looks|how|what|which|can|will|please|pls)(?![a-z])))", re.I)
_POINT_ZH_AFTER = re.compile(_ONE_ZH + r"(?P<what>[^\s，,。.？?！!、]{1,6}?)的")
_POINT_LEAD_ZH = re.compile(r"^(?:我想要|我要|要|想要|看看|买|那|就|还是|我觉得|感觉|请问)+|^(?:带|有|是)")
_PRICE_ONLY = re.compile(r"^[¥$]?\s?(\d{1,6}(?:\.\d{1,2})?)\s?(?:元|块|rmb|yuan|kuai|bucks)?$", re.I)


def pointed(message: str, vocab: Vocabulary, products: Sequence[Product | None], topic: Sequence[str] = (),
            prices: list[float | None] | None = None) -> tuple[list[int], str, bool] | None:
    """The shown cards a message points at by what they have ("the blue ones", "the 329 one", "the one with noise
    cancelling", "the pink tee", "真丝那条", "那个蓝色的"): their 0-based positions in the order said, the message
    with each pointing phrase put as "it" / "这个", and whether every phrase was plural ("the blue ones"). ``None``
    when nothing is pointed at so, or no card on show has what is said (then "the blue ones" asks for blue ones),
    or the message already names a card by place or price."""
    norm = normalise_query(message)
    if not products or references(norm, len(products), prices):
        return None
    # the kind's own words stand for "one": "the pink tee", "绿色的双肩包"; "X款" only with more said ("黑色款怎么样":
    # "中长款" alone wishes for that style)
    kinds = sorted((w for w, what in parse_query(norm, vocab, categories_hint=tuple(topic)).known.items()
                    if what == "category"), key=len, reverse=True)
    one_en = "|".join([*(re.escape(k) for k in kinds if re.fullmatch(r"[a-z][a-z -]*", k.lower())), _ONE_EN])
    one_zh = "|".join([*(re.escape(k) for k in kinds if re.search(r"[\u4e00-\u9fff]", k)), _ONE_ZH, r"款(?!式)(?=\s*[^\s，,。.？?！!])"])
    before_en = re.compile(rf"(?<![a-z])(?:the|that|those)\s+(?P<what>(?:[^\s,.;:!?]+\s+){{1,3}}?)(?:{one_en})(?![a-z])",
                           re.I)
    before_zh = re.compile(rf"(?P<what>[^\s，,。.？?！!、]{{1,8}}?)的?(?:{one_zh})")
    refs: list[int] = []
    spans: list[tuple[int, int, str]] = []
    hits: list[tuple[int, list[int]]] = []
    plural = True
    for rx, word in ((before_en, "it"), (_POINT_AFTER_EN, "it"), (before_zh, "这个"), (_POINT_ZH_AFTER, "这个")):
        for m in rx.finditer(norm):
            what = m.group("what")
            what = _POINT_LEAD_ZH.sub("", what.rstrip("的")) if word == "这个" else what
            hit = _cards_having(what, vocab, products, topic) if what else []
            if not hit or any(a < m.end() and m.start() < b for a, b, _ in spans):
                continue
            spans.append((m.start(), m.end(), word))
            hits.append((m.start(), hit))
            plural = plural and word == "it" and re.search(r"(?:ones|pairs|those)(?![a-z])", m.group().lower()) is not None
    for _, hit in sorted(hits):  # in the order said
        refs += [i for i in hit if i not in refs][:1]
    if not refs:
        return None
    rest = norm
    for a, b, word in sorted(spans, reverse=True):
        rest = f"{rest[:a]}{word}{rest[b:]}"
    return refs, rest, plural


def _cards_having(words: str, vocab: Vocabulary, products: Sequence[Product | None],
                  topic: Sequence[str]) -> list[int]:
    """Positions of the products that have everything ``words`` names (a brand, attribute values, or a price said
    alone); empty when the words name nothing of the kind, or something besides."""
    words = words.strip()
    price = _PRICE_ONLY.match(words)
    if price:
        amount = float(price.group(1))
        return [i for i, p in enumerate(products) if p is not None and p.price is not None
                and abs(p.price - amount) < 0.5]
    said = parse_query(words, vocab, categories_hint=tuple(topic))
    if said.exclude_attributes or said.exclude_brands or said.price_min is not None or said.price_max is not None \
            or (said.categories and topic and not all(_same_kind(c, topic) for c in said.categories)):
        return []
    if not (said.attributes or said.brands):  # "the rubber one", "the laptop one": words the cards themselves show
        return _cards_showing(words, products) if not said.categories else []
    brands = {b.lower() for b in said.brands}
    return [i for i, p in enumerate(products) if p is not None and has_values(p, said.attributes)
            and (not brands or (p.brand or "").lower() in brands)]


def _cards_showing(words: str, products: Sequence[Product | None]) -> list[int]:
    """Positions of the products whose title or attribute values show every content word of ``words`` (a Latin
    word whole, a Chinese one of two characters or more as written); empty when ``words`` has none."""
    said = [w.lower() for w in content_words(words) if len(w) >= 3 or re.search(r"[\u4e00-\u9fff]{2}", w)]
    if not said:
        return []

    def shows(p: Product) -> bool:
        text = " ".join([p.title or "", p.brand or "", *map(str, (p.attributes or {}).values())]).lower()
        return all((w in text) if re.search(r"[\u4e00-\u9fff]", w) else
                   re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", text) is not None for w in said)
    return [i for i, p in enumerate(products) if p is not None and shows(p)]


# Going back to an earlier need: "ok go back to the earbuds", "back to the mats pls", "还是回到刚才的洗发水吧"
_BACK = re.compile(r"(?<![a-z])(?:(?:let'?s|can we|could we|can you|take me|bring me|pls|please)\s+)?(?:go(?:ing)?\s+|"
                   r"switch\s+|come\s+|get\s+)?back\s+to\s+(?:the\s+|those\s+|my\s+|them\s+)?|"
                   r"(?:还是)?(?:回到|回去看看?|退回到?|返回)(?:刚才|之前|前面|上一个)?(?:的|那个|那些)?|"
                   r"(?:还是)?(?:看看?)?(?:刚才|之前|前面)(?:的|那个|那些|看的)", re.I)


def back_to(message: str, earlier: Sequence[str], vocab: Vocabulary) -> str | None:
    """A message that goes back to an earlier need, read as that need again with whatever it adds ("back to the
    mats pls, the cork ones" after "yoga mat" → "yoga mat pls, the cork ones"). ``earlier``: the shopper's earlier
    searches, newest first. ``None`` when the message does not go back, or names no earlier need and there is
    none to go back to."""
    norm = normalise_query(message)
    m = _BACK.search(norm)
    if m is None:
        return None
    rest = " ".join(f"{norm[:m.start()]} {norm[m.end():]}".split())
    said = _stems(rest)
    for text in earlier:  # the earlier need the words name ("the shoes" → "running shoes"), newest first
        zh = [w for w in re.findall(r"[\u4e00-\u9fff]{2,}", rest) if w in text]
        if said & _stems(text) or zh:
            kept = " ".join(w for w in rest.split() if not _stems(w) & _stems(text))
            for w in zh:
                kept = kept.replace(w, " ")
            return " ".join(f"{text} {kept}".split())
    if parse_query(rest, vocab).categories:  # "back to the earbuds" when no earlier search says earbuds
        return rest
    if earlier and not content_words(re.sub(r"[吧呢啊呀嘛了]", " ", rest)):  # "还是看刚才的吧": the need before this one
        return earlier[0]
    return None


def _stems(text: str) -> set[str]:
    """Lower-case words of three letters or more, a plural's s dropped ("mats" and "mat" are one)."""
    return {re.sub(r"(?<=[a-z]{3})(?:es|s)$", "", w) for w in re.findall(r"[a-z]{3,}", text.lower())}


def _understand(message: str, vocab: Vocabulary, shown: int = 0, asked_last_turn: bool = False,
                default_language: str = "en", shown_prices: list[float | None] | None = None,
                topic: tuple[str, ...] | None = None, rates: dict[str, float] | None = None,
                given: Sequence[int] = ()) -> Understanding:
    """:func:`understand` of one reading of the message; ``given``: the cards it points at by what they have."""
    parsed = parse_query(message, vocab, rates=rates, categories_hint=topic or ())
    lang = language_of(message, parsed, default_language)
    norm = normalise_query(message)
    if _RESET.search(norm):
        if parsed.categories:  # "换个话题，我想看看登山鞋": a fresh start with a need is a new search
            return Understanding("search", parsed, lang)
        return Understanding("reset", parsed, lang)
    if _GREET.match(norm):
        return Understanding("greet", parsed, lang)
    if _THANKS.match(norm):
        return Understanding("thanks", parsed, lang)
    if _SERVICE.search(norm) and not parsed.categories and not _FOCUS.search(norm):
        return Understanding("service", parsed, lang)
    refs = references(norm, shown, shown_prices)
    refs = [*given, *(r for r in refs if r not in given)]
    low = norm.lower()
    # the categories named (if any) are the topic's kind, or above or below it
    same_kind = not parsed.categories or (bool(topic) and all(_same_kind(c, topic) for c in parsed.categories))
    if (shown or topic) and _NO_BUDGET.search(norm) and parsed.price_min is None and parsed.price_max is None:
        # "actually forget the budget", "预算不限了": the same need without its price bounds
        parsed.text = " ".join(_NO_BUDGET.sub(" ", parsed.text).split())
        parsed.sort = None if parsed.sort in ("price_asc", "price_desc") else parsed.sort
        return Understanding("refine" if same_kind else "search", parsed, lang, unbounded=True)
    if (shown or refs) and _CART.search(norm) and not parsed.categories and not parsed.has_constraints():
        return Understanding("cart", parsed, lang, refs)
    if shown and _LIKE.search(norm) and same_kind:
        # "anything similar to the second one but cheaper?": products like that one (cheaper than it)
        move = "cheaper" if _CHEAPER.search(low) else "pricier" if _PRICIER.search(low) else None
        parsed.sort = None if move else parsed.sort
        return Understanding("refine", parsed, lang, refs, price_move=move, like=True)
    by_price = bool(_BY_PRICE_REF.search(low)) and shown > 0
    if by_price:
        parsed.sort = None  # "the most expensive one" points at a card; it is no sort order
    if shown and _COMPARE.search(low):
        return Understanding("compare", parsed, lang, refs=refs if len(refs) >= 2 else [0, 1][:shown])
    move = None if by_price else "cheaper" if _CHEAPER.search(low) else "pricier" if _PRICIER.search(low) else None
    if move and parsed.sort in ("price_asc", "price_desc"):
        parsed.sort = None  # "便宜一点" is a move relative to what was shown, not a sort order
    if move and (parsed.price_max is not None or parsed.price_min is not None):
        move = None  # an amount said outright wins over "cheaper"
    keys, values = asked(norm, vocab, topic or ()) if shown else ([], [])  # the attribute keys and values the message names
    if keys and parsed.categories and topic and all(_same_kind(c, topic) for c in parsed.categories):
        # "裙长呢": 裙 is a word of the key (裙长, a dress's length), not dresses named again
        inside = key_word_spans(norm)
        at = [(low.find(w.lower()), len(w)) for w, kind in parsed.known.items() if kind == "category"]
        if at and all(any(a <= i and i + n <= b for a, b in inside) for i, n in at):
            parsed.categories, same_kind = [], True
    pick = _price_pick(norm, low) if shown and not refs and same_kind and not move else None
    if pick and shown_prices and any(p is not None for p in shown_prices[:shown]) \
            and parsed.price_max is None and parsed.price_min is None:
        # "which of these is the cheapest?", "哪个最便宜": the answer is among the cards on show, not a new sort
        priced = [(p, i) for i, p in enumerate(shown_prices[:shown]) if p is not None]
        parsed.sort = None
        refs = [(min if pick == "cheapest" else max)(priced)[1]]
        if not (keys or values):
            return Understanding("question", parsed, lang, refs, pick=pick)
        by_price = True  # "what sizes does the cheapest of these come in?": a question about that one
    other = _OTHER_OF.search(low) if shown and not refs and same_kind and not parsed.brands else None
    if other and not values:
        # "show me a different brand", "换个品牌看看", "有别的颜色吗": the need without the focused card's brand / colour
        word = next(g for g in other.groups() if g)
        return Understanding("refine", parsed, lang, other="brand" if word in _BRAND_WORDS else "color")
    if shown and not parsed.categories and not parsed.has_constraints() and not move and not keys \
            and (_DISLIKE.search(norm) or (_MORE.search(norm) and not refs)):
        # "not a fan of the first one, others?", "第一个不喜欢 换一个", "next page": other products for the same need
        return Understanding("refine", parsed, lang, more=True)
    measure = _measure(low) if shown and not move and not by_price and same_kind \
        and (not refs or _AVAILABILITY.search(low)) else None  # "the first one's too slow, got anything faster?"
    if measure and not values and parsed.price_max is None and parsed.price_min is None and not superlative(norm):
        # "got anything bigger?", "内存大一点的", "a bigger size?": the need, with more of it than the cards on show
        return Understanding("refine", parsed, lang, measure=measure,
                             measure_keys=tuple(dict.fromkeys([*keys, *implied_keys(norm)])))
    # "材质呢": a property named with no value asks about the product in focus ("红色的呢", a value, refines)
    question = _is_question(norm) or ("呢" in norm and bool(keys) and not values)
    # "这袜子是短筒还是中筒的", "are these socks cotton?": the topic's own kind with a demonstrative is the product
    this_kind = bool(parsed.categories) and same_kind and _DEMONSTRATIVE.search(norm) is not None and \
        (lang == "zh" or re.search(r"(?<![a-z])(?:is|are|does|do|can|will|has|have)(?![a-z])", low) is not None)
    # "does it come in white", "这个有白的吗": of the product, not a search for others
    about_focus = this_kind or bool(_FOCUS_STRONG.search(norm))
    if shown and question and refs and not move and not keys and not values and _DETAIL.search(low) \
            and not parsed.has_constraints():
        return Understanding("detail", parsed, lang, refs)  # "第三个怎么样", "how's the second one?"
    if shown and values and not about_focus and not refs and _WHAT_ABOUT.search(low):
        return Understanding("refine", parsed, lang)  # "what about oily skin": the need with that value instead
    if shown and question and not refs and not move and values and same_kind and _WHICH_HAVE.search(norm.lower()) \
            and not superlative(norm):
        # "which ones have noise cancelling?", "哪几款是防水的": the cards that have it, not the first card
        return Understanding("question", parsed, lang, having=tuple(values))
    # "cork ones?", "with niacinamide?": values asked for with only a question mark are a wish for such products
    wish = question and values and not refs and not keys and not about_focus and not has_focus_word(norm) and \
        not _is_question(re.sub(r"[?？]", " ", norm))
    if shown and question and not move and not wish and (refs or ((not parsed.categories or this_kind)
                                                     and (not _AVAILABILITY.search(low) or about_focus)
                                                     and (has_focus_word(norm) or this_kind or keys or values))):
        most = superlative(norm) if not refs and (keys or implied_keys(norm)) else None
        pick = _price_word(low) if by_price and refs and not (keys or values) else None
        return Understanding("question", parsed, lang, refs, most=most, pick=pick)  # "is the 2nd one waterproof?"
    if shown and question and not refs and not move and same_kind and not keys and not values \
            and _THESE_ASKED.search(norm) and not _AVAILABILITY.search(low):
        # "are these any good for wide feet?": about the products on show, not a search for wide feet
        return Understanding("question", parsed, lang, these=True)
    most = superlative(norm) if shown and not refs and not move and same_kind else None
    if most and (keys or implied_keys(norm)):
        # "the biggest one", "内存最大的那个呢": said without a question mark, still a pick among the cards
        return Understanding("question", parsed, lang, most=most)
    if shown and refs and not move and not question and not parsed.has_constraints() \
            and (_DETAIL.search(low) or not parsed.categories):
        return Understanding("detail", parsed, lang, refs)
    if shown and not move and not parsed.has_constraints() and (refs or has_focus_word(norm)) \
            and (_DETAIL.search(low) or not _residue(parsed.text)):
        return Understanding("detail", parsed, lang, refs)
    ongoing = topic is not None or shown > 0
    if topic and parsed.price_max is None and parsed.price_min is None and "size" not in parsed.attributes:
        # "do u have them in 43?", "43 please": a bare number that is a size of the kind on show is that size
        for m in _SIZE_NUMBER.finditer(norm):
            kinds = vocab.attribute_categories.get(("size", m.group(1)), ())
            if any(_same_kind(c, topic) for c in kinds):
                parsed.attributes["size"] = [m.group(1)]
                break
    if ongoing and parsed.price_max is None and parsed.price_min is None and not parsed.categories \
            and "size" not in parsed.attributes:
        amount = _BARE_AMOUNT.match(norm)
        if amount:  # "500", "500块", "make it 600": in a conversation a bare amount is the budget
            parsed.price_max = float(amount.group("n").replace(",", ""))
            move = None
    if move and ongoing:
        return Understanding("refine", parsed, lang, price_move=move)
    if ongoing and topic and parsed.categories and _PURPOSE_ONLY.match(norm) and len(parsed.categories) == 1 \
            and not any(_same_kind(c, topic) for c in parsed.categories):
        # "for running" after socks: what the socks are for, not running shoes
        said = [words for what, words in parsed.mentions() if what.startswith("category ")]
        parsed.categories = list(topic)
        return Understanding("refine", parsed, lang, purpose=" ".join(said))
    if ongoing and not _new_topic(parsed, topic or (), norm):
        more = shown > 0 and bool(_MORE.search(norm)) and not parsed.has_constraints() and not parsed.categories
        return Understanding("refine", parsed, lang, more=more)
    vague = _is_vague(parsed, message)
    gift = bool(_GIFT.search(norm)) or (asked_last_turn and not parsed.categories and bool(_SOMEONE.search(norm)))
    if vague and not asked_last_turn and parsed.price_max is None and parsed.price_min is None:
        return Understanding("clarify", parsed, lang, vague=True, gift=gift)
    return Understanding("search", parsed, lang, vague=vague, price_move=move, gift=gift)


_SIZE_NUMBER = re.compile(r"(?<![\d.,¥$])(\d{1,3}(?:\.5)?)(?![\d.,%]|\s*(?:元|块|rmb|yuan|kuai|bucks|dollars?|"
                          r"usd|eur|gbp|hkd|円|¥))", re.I)
_BARE_AMOUNT = re.compile(r"^\s*(?:(?:ok|okay|hmm|um|well|so|then|and|maybe|actually|how about|what about|make it|"
                          r"let'?s say|say|fine|alright|all right|nah|no wait|ugh|那|那就|就|嗯|呃|改成|换成|算了|好吧|行吧|那好|还是|"
                          r"那还是)[\s,]*)*[¥$]?\s?(?P<n>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?"
                          r"(?:元|块钱?|rmb|yuan|kuai|bucks)?\s*(?:then|instead|please|pls|is fine|is ok|works|吧|呢|好了|就行|可以吗|"
                          r"也可以|也行|也ok|也能接受|可以)?[\s.!?。！？吧]*$",
                          re.I)


# Another brand or colour than the card in focus: "a different brand", "any other brands?", "other colours?",
# "换个品牌", "有别的颜色吗", "不喜欢这个牌子 换一个"
_BRAND_WORDS = frozenset(("brand", "brands", "make", "makes", "品牌", "牌子"))
_OTHER_OF = re.compile(r"(?<![a-z])(?:different|other|another|else|new)\s+(brands?|makes?|colou?rs?)(?![a-z])|"
                       r"^\W*(?:any\s+)?(?:in\s+)?(?:other|different)\s+(colou?rs?|brands?)\W*$|"
                       r"(?:换|换个|换一个|换一下|别的|其他|其它)(品牌|牌子|颜色)|不喜欢这个(牌子|品牌|颜色)", re.I)


# More or less of a measure than the cards on show (a price move is read before: "less expensive" is cheaper)
_MORE_OF = re.compile(r"(?<![a-z])(?:bigger|larger|roomier|longer|faster|more (?:powerful|storage|capacity|room|space|"
                      r"pieces|ports|battery)|higher capacity)(?![a-z])|(?:大|长|快)一?[点些]|更(?:大|长|快)|再(?:大|长|快)",
                      re.I)
_LESS_OF = re.compile(r"(?<![a-z])(?:smaller|shorter|lighter|more compact|less (?:storage|capacity|bulky)|fewer pieces)"
                      r"(?![a-z])|(?:小|短|轻)一?[点些]|更(?:小|短|轻)|再(?:小|短|轻)", re.I)


def _measure(low: str) -> str | None:
    """"more" / "less" when the message asks for more (less) of a measure than the products on show."""
    more, less = _MORE_OF.search(low), _LESS_OF.search(low)
    return None if bool(more) == bool(less) else "more" if more else "less"


# The price superlative of a question among the cards ("which is cheapest?", "哪款最贵"), not a sort of all of them
_PRICE_SUP = re.compile(r"(?P<low>(?<![a-z])(?:cheapest|least expensive|most affordable|lowest[- ]priced|lowest price)"
                        r"(?![a-z])|最便宜|最实惠|价格最低|最划算)|(?P<high>(?<![a-z])(?:priciest|most expensive|"
                        r"highest[- ]priced|highest price|dearest)(?![a-z])|最贵|价格最高)", re.I)
_PLURAL = re.compile(r"(?<![a-z])(?:ones|options|picks|products|items|models|pairs|show|give|find|list|sort)(?![a-z])|"
                     r"那些|哪些|一些|几款|几个|排序|列出", re.I)


def _price_pick(norm: str, low: str) -> str | None:
    """"cheapest" / "priciest" when the message asks which of the shown products costs least / most: a price
    superlative with "which" / "of these" or asked as a bare question ("and the least expensive?"), not a request
    for the cheapest ones ("show me the cheapest ones", "最便宜的")."""
    word = _price_word(low)
    if not word or _PLURAL.search(low):
        return None
    if not (re.search(r"(?<![a-z])(?:which|what'?s|whats|what is|of (?:these|those|them|the lot|all)|out of|among)"
                      r"(?![a-z])|哪|这几|这些|里面|其中|当中", low) or re.search(r"[?？]\s*$", norm)):
        return None
    return word


def _price_word(low: str) -> str | None:
    """"cheapest" / "priciest" for the price superlative the message says, if any."""
    m = _PRICE_SUP.search(low)
    return None if m is None else "cheapest" if m.group("low") else "priciest"


def _same_kind(category: str, topic: Sequence[str]) -> bool:
    """The category is one of the topic's, or above or below one of them."""
    return any(category == t or category.startswith(t + " > ") or t.startswith(category + " > ") for t in topic)


def _new_topic(parsed: ParsedQuery, topic: tuple[str, ...], message: str = "") -> bool:
    """A message naming another kind of product starts a new topic ("…instead", "算了，看看耳机"); a bare budget,
    colour, brand or value refines the current one ("预算一千", "in black", "max 200"), and so does the same
    category or one above or below it. A need in the shopper's own words with nothing the store knows in it
    ("something for camping") is a new topic too, and so is a gift or a need for someone with no kind of product
    named ("something for my mom", "送同事的，两百以内")."""
    if parsed.categories:
        return not any(_same_kind(c, topic) for c in parsed.categories)
    if _GIFT.search(message) and not _SAME_KIND.search(message):  # "one for my wife too": more of the kind
        return True
    if parsed.has_constraints():
        return False
    if _DESCRIBED.search(message) or _SUITED.search(message):  # "something eco friendly", "anything softer?",
        return False                                                # "适合三岁小孩玩的": the kind on show, described
    said = re.sub(r"[吗呢么没?？。!！~\s]+$", "", message)
    if _ZH_HAVE.search(message) and not _ZH_DESCRIBED_END.search(message) and said[-1:] not in "款码号型版式色" \
            and any(re.match(r"[\u4e00-\u9fff]", w) for w in content_words(_residue(parsed.text))):
        return True  # "有没有行李箱": another thing asked for by name ("有没有入耳式的", "有没有男款": of the kind on show)
    # "any in a longer length?": a property and how much of it, of the kind on show
    return len(strip_quantities(_residue(parsed.text)).split()) >= 2


def _residue(text: str) -> str:
    """The words left after fillers, focus words and ordinals: what the shopper asks about in their own words."""
    out = _FILLER.sub(" ", text.lower())
    out = _ORD_EN.sub(" ", out)
    out = _ORD_ZH.sub(" ", out)
    out = _FOCUS.sub(" ", out)
    out = re.sub(r"[^\w\u4e00-\u9fff]+", " ", out)
    return " ".join(out.split())


# a wish for a product described by what it does, not a question about one: "one that can do three devices",
# "something which does both", "ideally one with a long battery"
_DESCRIBED_WISH = re.compile(r"^\s*(?:(?:i(?:'d| would)? (?:want|need|like|prefer)|i'm after|need|want|prefer|looking for|"
                             r"ideally|preferably|maybe|ok|okay|hmm|actually|and|but)[,\s]+)*"
                             r"(?:one|ones|something|anything|some|the kind|the type|a (?:model|version))\s+"
                             r"(?:that|which|with|who)(?![a-z])")


def _is_question(message: str) -> bool:
    if "?" not in message and "？" not in message and _DESCRIBED_WISH.match(message.lower()):
        return False
    return bool(re.search(r"[?？]|(?<![a-z])(?:is|does|do|can|how|what|what'?s|whats|which|will|has|have|are|any "
                          r"idea)(?![a-z])|吗|么|多少|几|怎么|是否|能不能|有没有|啥|什么|多久|多大|多长|哪些|哪个|是不是|"
                          r"可不可以|能否|是.{1,12}还是|(?:isn'?t|is|aren'?t|doesn'?t|does|right) (?:it|they|that)\s*[.!]*$|"
                          r"(?<![a-z])right\s*[.!]*$|不会.{0,16}吧[\s。！!]*$", message.lower()))


def _is_vague(parsed: ParsedQuery, message: str) -> bool:
    if parsed.categories or parsed.brands or parsed.attributes:
        return False
    vague = [m.group(0).lower() for m in _VAGUE.finditer(message)]
    naming = [w for w in content_words(parsed.text) if not _PERSON.fullmatch(w) and not _GIFT.fullmatch(w)]
    named = [w for w in naming if w.isascii() and not _OCCASION.fullmatch(w)]
    if vague and not (named and all(_OCCASION.fullmatch(v) for v in vague)):
        return True  # (not "golf balls for my dad's birthday": the occasion of a product named)
    if _GIFT.search(normalise_query(message)):  # for someone, and no word that could name a product
        return not naming
    return not _residue(parsed.text)
