"""The words handlers/intent.py reads a message by: phrases of small talk, of a bare opener, of each
follow-up, and the few morphemes that describe trouble. Data only; matched against the message's
letters and digits, lower-cased, in simplified characters (intent.letters_and_digits).

Written as patterns of how residents write, not as a list of seen messages: each alternative is a
phrase that can stand in many sentences.
"""

import re


def phrases(spaced: str) -> list[str]:
    """Phrases written one after another, separated by spaces (the message has none left)."""
    return spaced.split()


def words(*phrases: str) -> re.Pattern:
    """Literal phrases, the longest tried first (so "谢谢你们" goes before "谢谢")."""
    return re.compile("|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)))


GREETINGS = phrases(
    "你好 您好 你们好 您们好 大家好 侬好 泥嚎 nihao hello hi 哈喽 哈罗 哈咯 哈啰 嗨 喂 "
    "在吗 在么 在嘛 在不在 在不 在没 在伐 在没在 有人吗 有人没 有人在吗 有没有人 听得到吗 听得见吗 "
    "上班了吗 上班没 在班上吗 早上好 上午好 中午好 下午好 晚上好 早安 早 新年好 过年好 新年快乐 "
    "春节快乐 中秋快乐 国庆快乐 节日快乐 元旦快乐 端午安康 阖家幸福 身体健康 万事如意 吃了吗 吃了没 "
    "吃饭了吗 问个好 问好"
)
# Who the resident addresses: alone, or around a greeting, these say nothing.
TITLES = phrases(
    "老师 同志 同志们 师傅 领导 领导们 小助手 管家 小区管家 工作人员 社区 居委会 书记 主任 网格员 "
    "小姑娘 小伙子 阿姨 大姐 各位 大家 亲"
)
THANKS = phrases(
    "谢谢 多谢 谢啦 谢了 谢谢你们 感谢 太感谢 感恩 多亏 多亏了 幸亏 3q thx thanks thankyou 唔该 "
    "唔该晒 多谢晒 辛苦了 辛苦 麻烦了 麻烦你们了 你们真好 真好 好人 点赞 点个赞 赞 棒 给力 满意 "
    "非常满意 为人民服务 好人有好报 有好报"
)
ACKS = phrases(
    "好的 好滴 好哒 好嘞 好吧 好 嗯 嗯嗯 嗯呢 哦 噢 行 行吧 可以 成 中 得 得嘞 对 对的 是的 "
    "知道了 知道啦 晓得了 晓得 了解 懂了 明白了 明白 收到 ok okay 没问题 太好了 那就这样 就这样 "
    "先这样 就这么办 就这么定 我等着 等你们消息 我等电话 我等师傅 没毛病"
)
GOODBYES = phrases(
    "再见 再会 拜拜 拜了 拜 bye 88 晚安 回头聊 回头说 回聊 下回聊 下次聊 下次再说 改天聊 "
    "改天再说 不打扰了 打扰了 打扰一下 打扰 早点休息 注意身体 保重 不说了 忙去了 去忙了 先忙 我先忙了"
)
TESTS = phrases(
    "测试 测一下 测试一下 试试 试一下 试一试 test testing 看看好不好使 好不好使 能不能发出去 "
    "能发出去吗 能收到吗 能收到不 收到没 能不能收到 收不收得到 收得到吗 收到了吗 看得到吗 "
    "发错了 按错了 点错了 勿回 不用管 随便发一条看看"
    " 看看有没有反应 有没有反应 测试消息 这是测试消息 这是测试 能不能用 能用吗 好不好用 灵不灵 试试灵不灵 好使不 "
    "再试一回 再试一次 再试试 试一回 "
    "试试看 发个试试 发个消息试试 发条消息试试"
)
FILLERS = phrases(
    "没事了 没事 不好意思 对不起 请问 您 你 们 啊 呀 吧 呢 哈 啦 嘛 哇 哟 嘞 咯 喽 了 的 一下 一声 非常 真 很 太 都 也 那"
)
POLITE = words(*GREETINGS, *TITLES, *THANKS, *ACKS, *GOODBYES, *TESTS, *FILLERS)
CHAT = words(*THANKS, *ACKS, *GOODBYES, *TESTS)  # a message carrying one of these is chat unless it names trouble
GREETING = words(*GREETINGS)

# A bare opener: the resident is about to say something, but has not said it yet.
OPENER = words(
    *phrases(
        "我想反映 想反映 我要反映 反映个问题 反映一个问题 反映个情况 反映一下 反映 反应 我要投诉 投诉 举报 "
        "报修 报个修 报个事 怎么报 怎么弄 怎么办 帮我个忙 帮个忙 帮帮忙 帮忙 求你们 求求你们 能帮个忙吗 "
        "能不能 我想问 想问问 想问 问一下 问个事 问 咨询一下 咨询 请教 提个意见 提意见 有个事 有件事 "
        "有个问题 有个情况 有点事 有点问题 有点情况 有困难 说个事 我有事 有事 找你们 找社区 找一下 跟社区说 跟说 求 找 我家里 "
        "说一下 要说 想说 麻烦 求助 我家 家里 楼里 我们 我想 我要 想请 想 我 来 个 一个 点 事情 事儿 事 "
        "问题 情况 状况 政策 下 能 吗 不 可以吗 这边 那边 边 遇到 碰到 出了 出 等下 待会 慢慢说"
    )
)
REPLIER = r"(电脑|机器人|机器|程序|系统|自动|人工智能|ai|真人|活人|人工)"
# When someone answers ("晚上也有人回吗", "几点以后就没人回了", "一般多久能回"): about the bot, however a model reads
# its words of waiting.
HOURS = re.compile(
    r"(几点|什么时候)(以后|之后|过后)\S{0,3}(没人|有人)|(几点|什么时候)(上班|下班)|一般(要|得)?(多久|多长时间|几天)|"
    r"(周末|节假日|过年|放假)\S{0,2}有人(回|在|值班|管|处理|看|接)?(吗|么|不|没|嘛)|"
    r"(晚上|半夜|夜里|深夜)\S{0,6}有人(处理|回|看|管|值班|在)?(吗|么|不|没|嘛)"
)
ABOUT_BOT = re.compile(
    r"你是(谁|机器人|真人|人工|ai|电脑)|机器人吗|机器回复|电脑回复|自动回复|是人工|人工客服|转人工|找个?人工|"
    r"你能(干|做)(什么|啥)|你会(干|做|说|回答)?(什么|啥|话|问题)|怎么用|不会用|不会弄|不会打字|你叫(什么|啥)|"
    r"你们是(哪|什么)|你是哪个|(这|这个|这里)是(干|做)(什么|啥|嘛)|(这个|这)\S{0,3}号(是|管)(干|做)?(什么|啥|嘛)|"
    r"公众号能(干|做)|(是|是不是)(ai|人工智能|机器人|真人)(吗|么|啊|呀|吧)|(乱|瞎)(回|答)|(在哪|哪里|哪儿)(能|可以)?(看|查)|"
    r"听(得)?懂|(这|这个|这里)是.{0,10}(公众号|号)吗|号是.{0,6}(官方|社区)|这里(可以|能)(报修|反映|投诉)吗|"
    r"(能|可以)发(语音|位置在|地址是|具体在|照片|图片|视频)|(怎么|咋|如何)(跟你|和你|给你)?(说|讲)|(按|用)(啥|什么)格式|"
    r"(在这|这里|这儿)\S{0,3}(说|讲|反映|报|发)\S{0,2}(就行|就可以|可以|行)(吗|么|不|嘛|伐|吧|$)|"
    r"(受理|能管|管|能办|办|处理|负责|反映)(哪些|哪类|什么|啥)(事|问题|业务|范围)|不(太)?会用|"
    r"(这个|这|你们)是(居委会|社区|物业|政府|街道)(弄|办|搞|开|做)?的(还是|吗)|"
    r"(办公|居委会|社区)\S{0,4}在哪|电话(是)?多少|有没有电话|怎么查|找谁|问谁|跟谁说|"
    r"(接单|来办事|上门)的\S{0,4}(是|都是)\S{0,4}(什么|哪些|啥)人|代(她|他|我|老人)(发|报|说)|" + HOURS.pattern
)
# Who answers, a person or a machine ("是不是电脑在回", "真人还是机器", "秒回 是程序吧"): about the bot at
# a little more length too.
WHO_ANSWERS = re.compile(
    rf"{REPLIER}(在)?(回|答|打字|聊)|是不是{REPLIER}|{REPLIER}(吧|吗|啊|呀|还是)|还是{REPLIER}|"
    r"回(复|得|的|消息)?(这么|真|好|太|也太|挺)(快|及时)|秒回"
)
# A thing's broken state, however few the words ("人行道砖松了", "地砖翘起来了", "门禁失灵了"): never chat.
BROKEN = re.compile(
    r"坏|漏|堵|裂|碎|塌|掉|破|断|不亮|不通|不热|不动|不转|不能用|用不了|打不开|关不上|锁不上|停水|停电|停了|积水|"
    r"松|歪|翘|锈|烂|晃|缺|卡住|卡死|失灵|不灵|没(有)?反应|不反应|口子|豁口|划(到|伤|破)手|鼓(起|包)|起皮|脱落|发霉|霉|变形|塌陷|下沉|关不(紧|严)|拧不紧|合不上|溢|冒水|烧(了|坏|掉|断)|"
    r"(暖气|暖气片|屋里|家里|房间|屋子)\S{0,4}(凉|冰|冷)"  # a cold home is the heating, said without a word of fault
)
# Danger, theft, a complaint lodged: never chat, however sure the chat model is ("我要报警").
DANGER = re.compile(r"报警|救|命|火|烟|血|伤|晕|喘|摔|偷|抢|危险|打架|爆|砸|投诉|举报|纠纷|违|漏电|触电|煤气|燃气")
# Pests: never chat, however few the words ("地下室发现好多白蚁").
PEST = re.compile(r"白蚁|蚂蚁|老鼠|蟑螂|臭虫|跳蚤|马蜂|蜂窝|虫|蚊子|苍蝇")
# One's own things and body ("牙坏了一颗", "老花镜腿断了"): broken, they are no job for the community.
OWN_THINGS = re.compile(r"手机|屏幕|牙|腰|腿|膝盖|胳膊|眼镜|老花镜|玩具|遥控|鞋|衣服|裤子|伞|钱包|电脑|耳机|充电器|手表|指甲")
# Just venting: the resident says there is nothing to be done ("烦死了 没事就是吐槽下", "现在好了 你们不用担心").
JUST_VENTING = re.compile(
    r"(就是|只是|随便)\S{0,3}(吐槽|说说|聊聊|唠唠|发发牢骚)|就想(跟人|找人|跟你)(说说|聊聊|唠唠)|吐槽(一)?下|没事(就是|只是)|"
    r"(不用|别|莫|不要)(担心|挂念|惦记)|闲谈|闲聊|并无他事|没(有)?(别|其他)的事"
)
# Words broken off before they say what ("老师 我家那边有个"): an opener, never chat.
UNFINISHED = re.compile(r"(有个|有一个|有件|有一件|那个|这个|就是)$")
# Praise of a thing or a person, news of a sale ("面馆 味道还不错", "小狗好可爱", "亮堂多了"): chat when nothing beside
# it is trouble but the thing praised (猫, 狗, 味 are trouble words only as what a complaint is about).
PRAISE = re.compile(
    r"(真|挺|可|特别|蛮|很|好|太)(乖|可爱|好吃|香|好看|漂亮|美|热闹|精神|暖心|贴心|热心)|"
    r"得(锃亮|干干净净|干净|整整齐齐|整齐|利索|漂亮|有模有样)|"
    r"(真|挺|蛮|很|特别|非常)(是)?好(?!像|几|多|久)|好样的|好小伙|好姑娘|好心人|"
    r"不错|巴适|亮堂|(稳|亮|干净|方便|舒服|暖和)多了|特价|打折"
)
# Trouble's characters in words that mean none: joy or tiredness said strongly ("可把我乐坏了", "累成狗", "高兴得睡不
# 着"), a snowman, sorting rubbish. Taken out before trouble is looked for (never cold or heat: "冷死了" is the heating).
HARMLESS = re.compile(
    r"(乐|累|饿|高兴|开心|激动|兴奋|笑|忙|困|馋|美|帅|萌|爽|幸福|哭|烦|吓|羡慕|想)(坏|死|惨|疯|翻|成狗)(我|人)?了?|"
    r"笑(到|得)\S{0,2}(肚子)?疼|腿(都)?要(断|废)了|火锅|上火|火候|发火|火气|火车|火腿|火龙果|(嗓子|心里)\S{0,2}冒火|(大)?气(都)?不喘|"
    r"(高兴|开心|乐|激动|兴奋|美)得\S{0,4}?(睡不着|合不拢嘴|不行|不得了|跳起来|哭了|冒泡)|堆(了)?(个)?雪人|垃圾分类|热火朝天|红红火火|红火|火红|"
    r"撕心裂肺|一晃|血压|血糖|没毛病|一点毛病(都|也)?没(有)?|歪歪扭扭|"
    r"((电视剧|电影|小说|梦|游戏|剧|片)里|电视上)\S{0,10}"  # a story ("电视剧里那个房子着火了"); not 电视里, 视频里
)
# Things a complaint is often about, and "again", that name no trouble by themselves ("我家狗狗学会握手了", "猫又胖了"):
# beside no other trouble, the chat model decides, sure beyond its usual measure.
TOPIC = re.compile(r"狗|猫|又|还是|味")
PRAISED_THING = re.compile(r"猫|狗|味")
BUT = re.compile(r"但是|可是|就是|不过|只是|然而")  # "小狗好可爱 但是…": the praise introduces a complaint
# Thanks for a repair long ago, fine to this day ("去年那个漏水的事情…到现在一滴都没漏过 多谢", "好几年前装的扶手 到现在都好用
# 我每天都念你们的好"): the old trouble is named, but it is chat.
GRATITUDE = re.compile(r"谢|感恩|念(着)?(你们|您)?的好|夸夸|(修|弄|做|装|换|补)得(真|很|挺|太|特别|蛮|可)?(好|结实|牢|漂亮|地道)")
LONG_AGO = re.compile(r"去年|前年|前些年|几年前|那年|当年|上次|上回|以前|之前")
STILL_FINE = re.compile(r"到现在|至今|一直(都)?(好|没|挺)|好好的")
STILL_WRONG = re.compile(r"(到现在|至今)\S{0,3}(都|还)?(不|没(修|好|人|来|弄))")
# Trouble: a message with one of these describes something wrong, however short or polite.
TROUBLE = re.compile(
    r"坏|漏|堵|吵|臭|脏|乱|没(有)?(水|电|气|暖气|热水|信号|网|灯)|黑|报警|压|砸|停水|停电|停了|断|不亮|不通|不热|不动|不转|不行|不能用|用不了|打不开|关不上|锁不上|"
    r"裂|塌|掉|破|坑|积水|噪|味|烟|火|响|滴|渗|冒|爆|摔|倒|病|疼|痛|晕|喘|血|伤|救|命|死|丢|偷|占|堆|挡|危险|垃圾|违|"
    r"投诉|纠纷|打架|屎|尿|加盖|私搭|乱搭|搭建|圈(起来|占|地)|私自|"
    + PEST.pattern
    + r"|狗|猫|没人|还没|又|还是|困难|怕|担心|难受|不舒服|问题|毛病|故障|太多|突然|不听使唤|"
    + BROKEN.pattern
)
# The resident says who they are ("我是2号楼的老李", "俺是新搬来的").
INTRODUCES = re.compile(r"^(我是|我叫|俺是|本人是|本人退休|我们是|我们家是)")
# "不然真不知道咋办", "要不是你们都不知道怎么弄": gratitude, not a question.
WITHOUT_YOU = re.compile(r"(不然|要不然|要不是\S{0,6}?)\S{0,2}不知道(咋|怎么|该怎么|如何)(办|弄)")
# Asking the staff how to get something done ("想问一下这个事情怎么弄", "老年卡咋办"): never chat, however chatty the rest.
ASKS_THE_STAFF = re.compile(r"想问|请问|问(一)?下|咨询|(怎么|咋|如何)(办|弄|整|处理|申请|报名|联系)|找谁|问谁|howto|流程|手续")
# A matter only the staff can see to ("生存认证怎么弄", "居住证"): never a question about the bot.
STAFF_MATTER = re.compile(r"认证|证明|居住证|身份证|户口|户籍|低保|医保|社保|养老金|补贴|老年卡|残疾证|出生证|入学|落户")
# … and asking how to get one (办, 申请, 领 …): never chat, however few the words ("老年卡多大年纪可以办").
STAFF_ASKED = re.compile(r"办|申请|领|年纪|岁数|多大|条件|材料|手续|流程|(怎么|咋|去哪|哪里|在哪)\S{0,2}(交|补|换|开|弄)")
QUESTION = re.compile(
    r"怎么|咋|如何|吗|哪|什么|啥|多少|能不能|可不可以|是不是|有没有|么|"
    r"(?<![这那前好过头十了送给买吃拍摘种养们])几(?![十百千万遍盆棵朵斤])"  # not "这几天", "送你们几个", "几十年"
)

# Follow-ups: phrases about one's own order (intent.kind_of tries them in this order).
# The job done by halves, moved rather than removed, called done too soon ("垃圾清了一半", "只搬走了几个纸箱子",
# "挪到一楼门口了 这算啥处理", "结单结得也太快了"): not fixed, and about the job whatever place they name.
JOB_SKIMPED = (
    r"(清|修|弄|干|处理|扫|做|搬)了一半|只(搬|清|拉|拿|运)(走)?了|就(拿|搬|清|运)走?了?(几|一)|(挪|移|塞|扔)到|"
    r"这(也)?算(啥|什么)?(处理|清理|解决)|结(单)?得?\S{0,2}(太|也太)快|(小的|剩下的|其余的|其他的)\S{0,2}(还|全|都)(在|扔|堆|留)|"
    r"不(能)?算(完|数)|重新(处理|弄|修|清|来)|^(完成|办结|结单|处理好|处理完|清完|弄好|修好)了(吗|么|啊)?我\S{0,10}(还|差点)|(说|回复说?|显示)\S{0,3}(已)?(处理|弄|修|清)\S{0,3}(但|可|却|我(咋|怎么)没)"
)
# Words for whoever comes to do the job ("来的人小心别划着手", "到了在楼下喊一声我给开", "搬的时候注意点", "你哋上嚟搵我"):
# a detail of the order, tied to it however they read.
VISIT = (
    r"来的(人|师傅)|到了(就|在|给|打|喊|叫)|喊(我|一声)|我(给|帮)?(你们?)?开门|我给开|(搬|清|拉|弄|修|运|收)的时候|"
    r"上来找我|上嚟|搵我|可以先(放|问)|先放(在|那)|进来就(能|可以)?看到|密码|来了(就|可以|先|直接)|来的时候|直接\S{0,2}推\S{0,2}(开|进)|(得|要)(走|从)楼梯|往下搬|装不下|进来\S{0,2}第\S{1,2}(栋|个|家)|就那个(单元|门|楼)|不用(找|等|联系|叫)我|才能(搬|清|拉|运|进|弄)|顺便\S{0,2}(一起)?(清|弄|搬|处理|拉)"
)
STILL = r"(还是|依然|依旧|仍然|照样|照旧)"  # still: the resident knows how it was before
NOT_FIXED = re.compile(
    r"没(有)?(解决|修好|弄好|处理好|搞好|修|弄完|干完|清完|清干净|处理完|好)|没(弄|清|扫|打扫|收拾|处理|搞)(干净|彻底)|"
    r"还(漏|坏|堵|滴|冒|响|吵|臭|不亮|不通|不热|不行)|又(坏|漏|堵|停|响|吵|臭|脏|不亮|不通|不行|不热|"
    r"出现|开始|来了|犯|这样|那样|断|满)|还(是|在)(不行|坏|漏|堵|吵|臭|脏|黑|不亮|不通|不热|老样子|那样|这样|一样|有|响|滴|"
    r"冒|在|没(修|弄|好|解决|变|处理))|还在漏|问题(还在|依旧|依然)|跟没修一样|和没修一样|等于没修|白修|一点没变|没(什么)?变化|"
    r"老样子|跟原来一样|根本没|其实没|明明没|并没有|只(清|修|弄|干|处理)了一半|(只|就|才)\S{0,4}了?一半|太马虎|马马虎虎|还\S{0,6}没(拖|扫|擦|清|搬|拉)|(清|修|弄|干|处理|扫|做)了一半|一半没|了个寂寞|敷衍|糊弄|应付了事|不彻底|"
    # still as it was ("还是松的", "水压还是很小", "还是往上冒水"); not "还是不用了" (never mind)
    rf"{STILL}\S{{0,2}}?(没|不(?!用|要|麻烦|需要|错|必|客气)|松|歪|晃|卡|坏|漏|堵|吵|臭|脏|黑|响|滴|冒|裂|破|烂|锈|乱|满|堆|积|闪)|"
    rf"{STILL}(很|那么|这么|特别|挺)(小|大|慢|多|差)|"
    r"^(?!\S*我)\S*还在(呢|啊|那|那儿|原地)?$|还未|还在度|还剩|剩下的|" + JOB_SKIMPED + "|"
    r"(办结|结单|完成|处理完|修好了|说好了|处理好了)\S{0,6}(可是|但|其实|根本|还)|不满意|(修|弄|处理|干)得(不|太差|很差|马虎)|还是老|老问题|老毛病|更(严重|厉害)|越来越|怎么就(显示)?(完成|办结|结单|结了)|没人来\S{0,2}(就|怎么)"
)
# Fixed, or fine now ("修好了", "已经不漏了", "楼道干净了 👍"): 已经好了, or, with no order to close, good news.
FIXED_NOW = (
    r"已经没(问题|事)|已经(好了|修好|弄好|解决|处理好|处理完|处理了|没事|不漏|不吵|不响|不堵|不臭|通了|亮了|正常|恢复|清走|挪走|拉走|搬走|"
    r"清理|弄走|走了|搞定)|"
    r"自己(修|弄|解决|处理|找人|清|搞|好)|问题(解决|没)了|(解决|搞定|弄好|修好|处理好)了|现在(正常|好)了|恢复(正常|了)|"
    r"能用了|(?<![不没])亮了|^通了|不(漏|吵|响|堵|臭)了|(清|挪|拉|搬|弄|运)走了|"
    r"(收拾|打扫|清理|弄)(得)?利索|(垃圾|东西|杂物)\S{0,2}清(了|咯|啦|掉|完)|敞亮|没得事了?|(有人|来人|师傅|保洁|物业)(来)?(清|修|弄|处理|收拾|搬|拉|运)(了|走|完|好)|"
    # the job praised as done ("楼道干净了 👍", "打扫得干干净净"): a half job is NOT_FIXED's, read first
    r"(?<![不没])干净了|干干净净|清清爽爽|清爽了|(全|都)清(掉|光|走|空)了|清(掉|空)了|(挺|很|蛮|真|好)干净|搞掂|(?<![没不])(整|弄|收拾|打扫|清)完了|"
    r"(清爽|干净|敞亮|整洁|亮堂)多了|恢复(了)?整洁|(?<![没不])(处理|清理|打扫|清扫)完(毕|了)|(垃圾|东西|杂物)\S{0,3}(全|都)?没(了|得了)|齐活|一点(都|也)?没剩|(妥善|圆满)(解决|处理)|done|已(处理|清理|办|清)(完|好|妥)|被人收走"
)
# Not needed any more, withdrawn, settled ("不用来了", "帮我撤了吧", "投诉我撤了", "说开了 不追究了", "对方赔了钱").
NOT_NEEDED = (
    r"不用(了|来|派|管|处理|修|弄|麻烦|跑)|不需要了|不麻烦(你们)?了|(这事|这事儿|事情|事儿)\S{0,2}结了|"
    r"(可以|能|帮我|请|把).{0,4}(撤|取消|关(?!注|心|于|照|系)|结|销)|销(单|号)|(撤|撤销|撤回|取消)(了|吧|掉)|单子?(取消|撤)|"
    r"撤(了|回|销|掉)?(投诉|工单|单子|报修|申请)|(投诉|工单|单子|报修)\S{0,2}(撤|取消)|不(追究|计较|投诉)了|"
    r"(和解|谈妥|说开|商量好|协商好)了|(?<![不没肯])道(过)?歉了|(?<![不没肯])赔(了|过)|不用(你们|麻烦你们)(管|来|派|处理|修|弄|跑)"
)
RESOLVED = re.compile(FIXED_NOW + "|" + NOT_NEEDED)
# A job called done of part of it, or in someone else's words, then something left ("垃圾是拉走了 地上一大摊脏水没人管",
# "你们说弄好了 下楼一看啥都没动", "清走了 可墙角还有"): 没解决, not 已经好了.
CONCEDES = re.compile(r"(是|倒是|说|说是|说已经|显示|写着|表面上?|看着|号称)$")
DONE_BUT = re.compile(r"^\S{0,2}?(可(?!以|能)|但|不过|就是|只是|然而|but)")  # right after the word done ("修好了 可…")
LEFT_UNDONE = re.compile(r"还|没|不|" + TROUBLE.pattern)
FIXED = re.compile(FIXED_NOW)
CHASE = re.compile(
    r"催|(怎么|咋|为啥|为什么)还(没|不)|还没(人|有人|修|弄|处理|解决|好|动静|消息|回|来|派|到)|"
    r"(怎么|咋)(没|不)(人|有人|来|见)|没(人|有人)(来|管|理|回|处理|联系|上门|看|接)|还不来|莫得人|没得人|冇人|没见人|不见人|"
    r"人呢|人在哪|(来|到)不来|(什么|啥|几)时(候)?\S{0,3}(来|到|修|弄|处理|能|可以|上门|派|好|办)|几点\S{0,2}(来|到|能)|"
    r"(等|要)(到)?(啥|什么)时候|多久|多长时间|还要等|还得等|等(了|到现在|半天|好久|一天|一整天|几天|一上午|一下午)|一直等|还在等|"
    r"等着呢|等不(了|及)|都\S{0,4}(天|周|礼拜|星期|个月)了$|(几|好几|多少|这么多|好多)(天|周|礼拜|星期|个月)了|这么(久|长时间)|"
    r"能(过来|来|修好|到|弄好|处理)(吗|不|么|没)|记着(没|吗|呢)|记得(吗|没)|没忘吧|帮(我)?(问问|问一下|打听)|效率|太慢|这么慢|拖拖拉拉|磨蹭|好几次|是不是忘|别忘了|一直没|拖了|第\S{1,2}天了|"
    r"进展|进度|(咋|怎么|怎)样了|如何了|到哪(一步|了)|有(没有)?(消息|信|下文|回音|动静)|没(一点|什么|啥|任何)?(动静|反应|回音|下文|消息)|"
    r"(报|反映|提|等)了\S{0,3}(天|周|星期|礼拜|个月)|(师傅|人|网格员|物业|工作人员)(呢|去哪了|哪去了)|等得|(把|将)\S{0,6}忘(了|记)|"
    r"(有|给)(个)?(结果|答复|说法|准话|回音)|再不(来|清|修|弄|处理|管)|(打|拨|找)\S{0,2}12345|12345热线|市长热线|"
    r"(处理|办|弄|修|管)(了)?没|跟进|有人(处理|管|来|接)(没|了吗|吗)|(快点|快来|赶紧|抓紧|尽快)|到底|(修|来|管|弄)不(修|来|管|弄)|说好|不是说|理我|回我|没人回|一直显示"
)
ADD = re.compile(
    r"^(具体|位置|地点|地址|是|就是|就在|补充|再补充|补一下|补一句|补个|另外|还有|再说|再加|加一句|顺便|忘了|忘说|忘记|对了|更正|纠正|改一下|刚才|"
    r"我说错|说错|写错|搞错|(是|在)\S{1,8}不是|不是\S{1,8}是)|补充|补(一|几|两)句|更正|纠正|说错了|写错了|搞错了|忘(了|记)?(说|讲|告诉)|"
    r"照片|图片|拍了|发个图|视频|电话|手机|号码|联系我|打我|门牌|房号|(来之前|上门前|来的时候|来了先)|在家|家里有人|家里没人|(都|一直|全天|整天|天天)有人|"
    r"随时(可以)?来|钥匙|(又|更)多了|更高了|越堆越|开始有味|招(苍蝇|蚊子|老鼠)|小心|当心|注意(点|安全|别)|" + VISIT
)
# The resident ties the words to an earlier job of theirs: an order ("我报的", "那个单子"), a correction
# ("补充", "说错了") or the repair ("没修好", "修完", "师傅走了"); the category the words name then decides nothing.
REFERS_BACK = re.compile(
    r"报的|反映的|单子|工单|那个\S{0,6}事|那件事|那事|上次说的|刚才说的|补充|更正|纠正|说错|写错|忘(了|记)?(说|讲|告诉)|"
    r"再说一句|再加一句|补(一|几|两)句|具体位置|位置在|地址是|门牌|没(有)?(修好|弄好|解决|处理好)|修完|(?<![没不])(修|换)了|弄过|修过|来过|处理过|师傅|"
    r"你们说|结单|办结|处理完|显示|没变|老样子|跟没修一样|催|进展|进度|不是\S{1,8}是|是\S{1,8}不是|"
    # going on from what was said ("对了 是晚上最吵", "还有就是…"); the job called done ("标了已处理", "说是弄好了",
    # "刚修的", "通完了"); that thing, the one they know ("那个井盖还是松的")
    r"^(对了|还有|另外就是|顺便说)|^那(个|只|棵|条|些|块|盏|根|辆|扇|台|部|堆|袋|摊)|(标|写|显示|说|说是)(的|了|成)?(已经?)?(处理|完成|办结|解决|修好|弄好|好了)|"
    r"已(处理|完成|办结|解决)|(刚|才)(修|换|弄|清|通)|(修|弄|处理)好的|(修|换|弄|清|通|疏通)完|" + VISIT + "|" + JOB_SKIMPED
)
# Urging, or "still" (the resident knows how it was): a follow-up's words, unless they name another thing
# besides ("单元门禁坏了 能快点修吗", "电动车还是乱充电" are reports while an order about rubbish is open).
KEEPS_ON = re.compile(r"快点|尽快|赶紧|抓紧|" + STILL)
# Asking for something (not thanking for it), unless it is about the past ("谢谢上回帮我申请助餐"). "帮我" asks only
# when the bot or the staff are to help ("请帮我看看", "能不能帮我"); "王大姐帮我拎菜上楼" tells of a neighbour's help.
REQUEST = re.compile(
    r"申请|补贴|办理|想要|需要|想找|想请|(^|请|麻烦|能|可以|你们|您|求|谁|给)帮(我|俺|忙)|"
    r"canhelp|help(me|us)|fix(?!ed)|please(?!d)|pls|ornot"  # in English ("can help or not?", "pls fix"); not "fixed", "your help"
)
SUGGESTION = re.compile(r"建议|希望|意见|请|联系|麻烦|要求|能否|可否")  # asking the community for something
PAST = re.compile(r"上次|上回|之前|以前|前几天|那天|昨天|前天|上礼拜|上周|上个月")
# A place named: a report says where; a follow-up seldom does (unless it refers back or corrects).
PLACE = re.compile(r"\d+(号楼|栋|幢|单元|楼|层)|楼上|楼下|隔壁|对门|小区|门口|楼道|楼梯|院子|车库|地下室")
# Who, where and when, without what: "门口那个", "我下午三点以后在", "楼上那家" say nothing yet.
VAGUE = re.compile(
    r"这个|那个|这边|那边|这家|那家|这里|那里|这儿|那儿|我家|家里|我们|他们|她们|门口|楼上|楼下|隔壁|对门|院子|小区|"
    r"楼道|早上|上午|中午|下午|晚上|半夜|今天|昨天|前天|刚才|以后|以前|之前|之后|时候|\d+(号楼|栋|幢|单元|楼|层|室|号)?|"
    r"[一二三四五六七八九十两几]+(点|号|楼|栋)?|[我你他她它在有个是的了都也就还那这里边上下点]"
)
# The things residents report, by kind: a message that names things of none of the kinds its order names
# ("我家暖气不热" beside an order about a lift) is about something else. Kinds are broad (all water one),
# so that two words for one thing ("漏水", "水管") never look like two things.
THINGS = {
    "lift": "电梯",
    "heating": "暖气|供暖|地暖",
    "light": "灯",
    "water": "水管|水龙头|自来水|水表|水压|停水|没水|热水|水箱|漏水|渗水|滴水|下水|马桶|地漏|化粪池|污水|管道|排水|积水",
    "power": "停电|没电|电闸|跳闸|电表|插座|电线|供电",
    "gas": "燃气|煤气|天然气|灶",
    "rubbish": "垃圾|杂物|纸箱|废品|粪|狗屎|小广告|一堆|堆着|堆的|堆满|木板|床垫|沙发|旧家具|家具|柜子|袋子|垃圾袋|编织袋",
    "door": "门禁|单元门|大门|门锁|防盗门|闭门器|铁门|卷帘门|门把手",
    "ground": "路面|人行道|地砖|台阶|井盖|窨井|马路|路上有坑",
    "vehicle": "车位|停车|违停|电动车|电瓶车|自行车|汽车|充电桩",
    "animal": "狗|猫|老鼠|蟑螂|蚊子|苍蝇|鸽子|马蜂",
    "green": "树|绿化|草坪|草地|花坛",
    "noise": "装修|广场舞|音响|喇叭|电钻|施工",  # what makes it: "又开始吵了" names no thing
    "smoke": "油烟|烧烤|烧纸|抽烟",
    "network": "网络|宽带|信号|电视|网线",
    "railing": "扶手|栏杆|护栏|围栏",
    "building": "外墙|墙皮|天花板|屋顶|楼顶|房顶",
    "play": "健身器材|健身器|滑梯|秋千|座椅|长椅",
    "parcel": "快递|包裹|外卖|信件|邮件",  # a parcel on the wrong floor is its own matter, whatever was reported before
}
THING = {kind: re.compile(words) for kind, words in THINGS.items()}
