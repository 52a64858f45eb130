"""The phrases a merge list's notes use, and what each means (data; a city adds its own).

Each entry: `effect` (one of EFFECTS), `pattern` (a regular expression searched in
the note, so 「保留号码和座席，与12345建立电话转接机制」 is read piece by piece) and
`meaning` (the reason shown to the operator). Entries are tried in order and a
matched piece is consumed, so a longer phrase must come before a phrase it
contains (保留号码和座席 before 保留号码). A city's own phrases come first:
`hotline plan import --phrases FILE.yaml`, a YAML list of entries of this shape.
"""
from __future__ import annotations

EFFECTS = {
    "retained": "保留座席：部门自己的座席接听（双号并行）",
    "pooled": "座席并入：由12345座席接听",
    "keep_number": "保留号码：号码继续使用，但座席不保留",
    "expert": "设专家座席：12345内设该热线的专家队列",
    "remote_expert": "远程专家座席：专家队列，成员经中继或浏览器座席接入",
    "sub_center": "设立分中心",
    "transition": "过渡期：本热线自己的过渡期长度",
    "cancel_number": "过渡期后取消号码（停止服务）",
    "withdrawn": "号码和座席已撤销：无过渡期时立即停止服务",
    "forwarded": "已呼叫转移至12345",
    "full_merge": "整体并入",
    "dual_number": "双号并行",
    "info": "已理解，不影响路由",
    "enterprise": "涉企专席 / 一企来：企业来电快速通道（enterprise: 一节）",
    "language": "外语坐席 / 外籍人士服务热线：按语种的队列（languages: 一节）",
}

_N = r"(?:\d+|[一二两三四五六七八九十]+)"

PHRASES: tuple[dict, ...] = (
    {"effect": "withdrawn",
     "pattern": r"(?:已)?撤销(?:号码|热线)?[、和及与]\s*[座坐]席|(?:号码(?:和|及|、))?[座坐]席(?:均)?已(?:撤销|撤除|取消)",
     "meaning": "撤销号码、座席：号码和座席都已撤销"},
    {"effect": "retained", "pattern": r"保留(?:原有|原)?(?:号码(?:和|及|与|、)|话务)?[座坐]席",
     "meaning": "保留座席 / 保留号码和座席 / 保留话务座席：部门保留自己的座席"},
    {"effect": "forwarded", "pattern": r"已(?:经)?(?:(?:呼叫)?转移|归并|并入)(?:至|到)?\s*12345",
     "meaning": "已呼叫转移至12345：号码已转到12345，由12345座席接听"},
    {"effect": "pooled", "pattern": r"(?:话务)?[座坐]席并入(?:\s*12345)?|(?:呼叫)?转移(?:至|到)\s*12345",
     "meaning": "座席并入 / 呼叫转移至12345：由12345座席接听"},
    {"effect": "remote_expert", "pattern": r"(?:设(?:置|立)?)?远[程端](?:专家)?[座坐]席",
     "meaning": "远程/远端专家座席：专家不在12345现场，经中继或浏览器座席接听"},
    {"effect": "expert", "pattern": r"设(?:置|立)?专家[座坐]席?",
     "meaning": "设(置)专家座席：12345内设专家队列"},
    {"effect": "sub_center", "pattern": r"设(?:立|置)?分中心", "meaning": "设立分中心"},
    {"effect": "transition", "pattern": rf"(?:半年|{_N}\s*个?月|{_N}\s*天|{_N}\s*日)(?:的)?过渡期",
     "meaning": "过渡期：本热线的过渡期长度"},
    {"effect": "transition", "pattern": rf"过渡期(?:为|是)?\s*(?:半年|{_N}\s*个?月|{_N}\s*天|{_N}\s*日)",
     "meaning": "过渡期：本热线的过渡期长度"},
    {"effect": "cancel_number", "pattern": r"(?:后)?(?:取消|撤销|停用|注销)(?:原)?号码",
     "meaning": "取消号码：过渡期后号码停止服务"},
    {"effect": "keep_number", "pattern": r"(?:暂)?保留(?:原)?号码", "meaning": "保留号码：号码继续使用（座席不保留）"},
    {"effect": "info", "pattern": r"(?:与\s*12345)?建立(?:电话|双向)?转接(?:机制)?",
     "meaning": "与12345建立电话转接机制：12345可转接到部门座席"},
    {"effect": "enterprise", "pattern": r"(?:设(?:置|立)?)?(?:涉企(?:服务)?(?:专席|[座坐]席)?|一企来)",
     "meaning": "涉企专席 / 一企来：企业来电优先，见 enterprise: 一节"},
    {"effect": "language", "pattern": r"(?:设(?:置|立)?)?(?:外语|外籍人士|多语种)(?:服务)?(?:[座坐]席|热线|专线)?",
     "meaning": "外语坐席 / 外籍人士服务热线：按语种的队列，见 languages: 一节"},
    {"effect": "full_merge", "pattern": r"整体并入", "meaning": "整体并入"},
    {"effect": "dual_number", "pattern": r"双号并行", "meaning": "双号并行"},
)

# Words left between understood phrases that carry no meaning of their own.
FILLER = r"^(?:12345|与|和|及|并|后|的|在|将|均|由|，|。|；|、|\s)*$"
