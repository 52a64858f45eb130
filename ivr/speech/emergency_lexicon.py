"""The emergency taxonomy: what callers say, and who takes it over.

Plain data an operator can read. Each group has the number the call is handed
to, numbers also told (a crash with injured is 122's and 120's), `words`
matched on characters AND on sound (a recognizer's 着伙 is 着火), and
`patterns`, regular expressions on the normalised transcript (fillers gone,
dialect rewritten, see ivr.speech.normalize). Groups are tried in this order;
the first group with a live (not negated, not past, not hypothetical) phrase
wins. Weapons and threats come before injuries so a knife fight is 110's.
Wording comes from how people say it on the phone, run-on and colloquial.
A city adds words per group in config (speech.emergency_words).
"""
from __future__ import annotations

from dataclasses import dataclass

_PERSON = r"(人|他|她|老人|孩子|小孩|我爸|我妈|老汉|老婆|老公|媳妇|儿子|女儿|工人|司机|邻居)"


@dataclass(frozen=True)
class Group:
    target: str
    words: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    hazard: bool = False  # a report of a risk is common: 怕/担心 before it cancels


GROUPS: dict[str, Group] = {
    "fire": Group("119", hazard=True, words=(
        "着火", "起火", "失火", "火灾", "烧起来", "烧着了", "火势", "山火", "着大火", "火苗", "浓烟", "火起来",
    ), patterns=(
        r"(锅|油锅|灶|炉子|电线|电线杆|车|房子|柴|草垛|麦草|被子|沙发|电动车|电瓶)[^，。]{0,2}着了",
        r"火(很|挺|特别|好|太|越来越)大", r"(房子|屋|家|厂房|仓库|车|楼|山|棚)[^，。]{0,4}(烧着|烧了|着了)",
        r"(屋|房|家|楼道|门缝|窗户|仓库)[^，。]{0,4}冒(出)?(好多|很多|大)?(黑)?烟",
    )),
    "explosion": Group("119", hazard=True, words=("爆炸", "炸开了"), patterns=(
        r"(?<![气油头都])炸了", r"(?<!头)都炸了", r"(锅炉|气罐|煤气罐|液化气罐|罐子|管道|炉子)[^，。]{0,3}(爆|炸)",
        r"(砰|轰)的一声", r"(要|会)爆了",
    )),
    "gas_leak": Group("119", hazard=True, words=("漏气了", "煤气泄漏", "燃气泄漏", "天然气泄漏"), patterns=(
        r"(煤气|燃气|天然气|液化气)[^，。]{0,8}(泄漏|泄露|漏了|漏气|在漏)",
        r"(煤气|燃气|天然气|液化气)(的)?(味|味道|味儿)[^，。]{0,4}(大|重|浓|冲|呛)",
        r"(一股子?|满屋子?|全是|都是)(煤气|燃气|天然气|液化气)", r"(管子|阀门)[^，。]{0,4}(嘶嘶|漏气)",
    )),
    "weapon": Group("110", words=("持刀", "砍人", "杀人", "捅人", "行凶", "开枪"), patterns=(
        r"拿着?(个|把)?(刀|刀子|菜刀|砍刀|斧头|斧子|棍子|铁棍|铁锨|枪|砖头)",
        r"(刀|刀子|斧头|枪)[^，。]{0,6}(砍|捅|杀|指着|比划)", r"要(砍|捅|杀)",
        r"(砍|捅)(伤|了|死)", r"有(枪|人带刀)",
    ), also=("120",)),
    "threat": Group("110", words=("绑架", "勒索", "恐吓", "扬言"), patterns=(
        r"(弄|整|打|杀|砍|捅)死(我|你|他|她|我们|全家|一家)", r"威胁(我|要|说)",
        r"不给钱就", r"要(报复|弄|收拾)(我|我们|全家)",
    )),
    "domestic_violence": Group("110", words=("家暴",), patterns=(
        r"打(他|她|我)?的?(老婆|媳妇|老公|孩子|小孩|妈|爸|老人)(?![^，。]{0,2}(电话|手机))",
        r"(老公|男人|丈夫|媳妇|老婆|我爸|他爸|后爸|继父)[^，。]{0,8}(打我|打她|打他|打孩子|抽我|掐我)",
        r"(?<![给回])打我(?!电话|手机|的电话|号|这)", r"(皮带|棍子|鞭子)[^，。]{0,3}(抽|打)",
    ), also=("120",)),
    "violence": Group("110", words=("打群架", "群殴", "斗殴", "被人打", "打人了", "打架"), patterns=(
        r"打得[^，。]{0,6}血", r"(好几个|一群|几个)人[^，。]{0,6}打", r"(堵|围)着[^，。]{0,6}打",
        r"(被|叫|让)[^，。]{0,4}(打|砍|捅)(了|伤|破|得)(?!电话)",
    ), also=("120",)),
    "missing_child": Group("110", words=("走失", "失踪", "被拐", "拐走", "抱走了", "走丢了"), patterns=(
        r"(孩子|小孩|儿子|女儿|闺女|孙子|孙女|外孙|宝宝|娃)[^，。]{0,14}(不见了|丢了|走丢|找不到了|找不着了|找不见了|没回来|没了|被[^，。]{0,3}(抱走|拐|带走))",
        r"(老人|我爸|我妈|老汉)[^，。]{0,6}(走丢|不见了|找不到了)",
    )),
    "robbery": Group("110", words=("抢劫", "打劫", "被抢", "入室", "进贼了"), patterns=(
        r"抢(东西|包|钱|手机|项链|走|了)", r"撬[^，。]{0,6}(门|锁|窗)", r"小偷[^，。]{0,4}(在|正)",
    )),
    "suicide": Group("110", words=("自杀", "轻生", "寻死", "不想活", "想不开", "割腕", "上吊", "跳河"), patterns=(
        r"跳楼(?!价|大甩卖)", r"(要|想|准备)跳(?!槽|舞|绳|广场舞)", r"跳(下来|下去)", r"活不下去",
        r"(吃|喝)[^，。]{0,3}(安眠药|药自杀)",
    ), also=("120",)),
    "traffic": Group("122", words=("车祸", "撞车", "翻车", "追尾", "被车撞", "交通事故", "撞翻"), patterns=(
        r"车[^，。]{0,3}(翻了|撞了|撞上|撞到)", r"撞(在一起|了人|人了|伤)", r"(轧|碾)(了|到|着)人",
        r"(两|几)(个|辆)车[^，。]{0,2}撞",
    ), also=("120",)),
    "trapped": Group("119", words=("被困", "困在", "困人"), patterns=(r"(关|卡)在电梯",)),
    "drowning": Group("120", words=("溺水", "落水"), patterns=(
        _PERSON + r"[^，。]{0,4}掉(到|进|在)?了?[^，。]{0,6}(水|河|井|渠|湖|窟窿|冰|池|塘|库)",
        r"(河|水|湖|渠|池|塘|库)里[^，。]{0,6}(扑腾|喊救命|沉|冲走|漂着)", r"淹(着|到|死)", r"被水冲走",
    )),
    "electrocution": Group("120", words=("触电", "电击"), patterns=(
        r"电打(上|着|到)", r"被电(打|击|到|着)", r"电(到|着)人", r"过电了",
    )),
    "poisoning": Group("120", words=("中毒", "一氧化碳", "误食", "误喝", "误服", "吃错药"), patterns=(
        r"喝了?(农药|敌敌畏|百草枯|老鼠药|消毒液|药)", r"(煤烟|煤气)[^，。]{0,2}(熏|中毒)",
    )),
    "not_breathing": Group("120", words=("没呼吸", "没有呼吸", "不喘气", "喘不上气", "喘不过气", "窒息", "心脏骤停"), patterns=(
        _PERSON + r"[^，。]{0,3}没气了", r"(嘴唇|脸)(都)?(发)?紫", r"心跳[^，。]{0,2}(停|没)", r"噎住",
    )),
    "unconscious": Group("120", words=(
        "晕倒", "昏倒", "晕过去", "昏过去", "昏迷", "栽倒", "倒地", "不省人事", "人事不省", "叫不醒", "喊不醒",
        "抽搐", "抽风", "口吐白沫", "休克", "翻白眼",
    ), patterns=(
        r"(叫|喊)(他|她)?(也)?不(醒|应|答应)", _PERSON + r"[^，。]{0,3}没(有)?(意识|反应|知觉)",
        r"(趴|躺|倒)[^，。]{0,4}不动", _PERSON + r"[^，。]{0,3}不动了", r"眼睛[^，。]{0,3}不睁", r"倒在地上",
    )),
    "injury": Group("120", words=("受伤了", "有人受伤", "头破血流", "骨折", "大出血", "流血不止", "血流不止"), patterns=(
        r"流(了|着)?(好多|很多|一地|满地)?血", r"(满头|满脸|满身|一身|都|全)是?的?血",
        r"(砸|压|夹|卷|摔|烫|烧)伤", r"被[^，。]{0,4}(砸|压|夹|卷)(住|到)", r"(腿|胳膊|手|脖子)[^，。]{0,2}断了",
        r"从[^，。]{0,6}(摔|掉)下来", r"卡在[^，。]{0,3}出不来", r"血止不住", r"破了个?(大)?口子",
        r"(塌|倒)了?[^，。]{0,6}(压|砸|埋)(住|到|伤|着)", r"(压|砸|埋)(住|在)[^，。]{0,4}(人|下面)",
    )),
    "medical": Group("120", words=("心梗", "脑梗", "中风", "羊水破了", "快不行了"), patterns=(
        r"心脏病(犯|发作)", r"要生了", r"(叫|喊|派|打)(个|辆|一辆)?(120|救护车)", r"(?<!\d)120(?!\d)",
        r"救护车[^，。]{0,4}(还没|没)来",
    )),
}

# What before a phrase, in its clause, makes it not an emergency now.
NEGATION = r"(没有|没|(?<!是)不是|并没有|并未|未|不会|别|不用)$"
PAST = r"去年|前年|几年前|上次|上回|以前|之前|那次|曾经|当年|上个月|上礼拜|上周|上星期|前几天|小时候"
# Hypothesis, hearsay, figure of speech (简直就是抢劫) and hyperbole (呛得人喘不过气).
HYPOTHESIS = (
    r"如果|要是|万一|假如|假设|防止|预防|容易|会不会|可能会|简直|等于|相当于|电视上|新闻|听说"
    r"|(呛|熏|臭|吵|气|压|累|烦|愁)得"
)
WORRY = r"怕|担心|害怕|隐患"  # only for hazard groups: 怕着火 reports a risk
# ...and right after it: 着火的隐患, 着火以后的赔偿.
CANCEL_AFTER = r"^(的)?(隐患|风险|以后|后的|的话|的时候|保险|理赔|赔偿|演练|预案|知识)"
# These say "now" and end the reach of a past or hypothetical word before them.
PRESENT = r"现在|刚才|刚刚|这会儿|正在|快来|赶紧|马上|今天|今早|一下子|突然"
# Words that add 120 to a crash: someone is hurt.
INJURED = (
    r"受伤|伤了|流(了|着)?血|是血|出不来|卡在|不动|躺在地上|没反应|昏迷|叫不醒|晕|断了|骨折|压住|救护车|120"
)
