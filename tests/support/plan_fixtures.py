"""A small but complete city plan for the plan tests: every mode, alias, extension and date form."""
from __future__ import annotations

import copy

from ivr.config.check import check_config
from ivr.config.model import Config

# 测试市: effective 2026-11-21 (a Saturday), one-month transition ending on 2026-12-20 (last day).
BASE: dict = {
    "hotline": {"name": "测试市12345政务服务便民热线", "city": "测试市", "timezone": "Asia/Shanghai"},
    "trunks": {
        "pstn": {"type": "local", "context": "sim-outside"},
        "subcenter": {"type": "pjsip", "endpoint": "subcenter-tax", "host": "127.0.0.1:5070"},
    },
    "queues": [
        {"id": "general", "name": "12345综合座席"},
        {"id": "hrss-expert", "name": "人社专家座席", "overflow_after": 30, "overflow_to": "general"},
        {"id": "fund-expert", "name": "公积金业务专区", "overflow_after": 45, "overflow_to": "general"},
    ],
    "sub_centers": [{"id": "tax", "name": "税务分中心", "trunk": "subcenter", "numbers": ["12366"]}],
    "lines": [
        {"id": "scm-12315", "name": "12315市场监管投诉举报热线", "numbers": ["12315"],
         "aliases": ["12312", "12330", "12331"], "department": "市市场监管局", "mode": "full_merge",
         "effective": "2026-11-21", "transition_end": "2026-12-20",
         "department_target": "trunk:pstn/12315"},
        {"id": "hrss-12333", "name": "全国人力资源和社会保障服务电话", "numbers": ["12333"],
         "department": "市人社局", "mode": "full_merge", "effective": "2026-11-21",
         "transition_end": "2026-12-20", "queue": "hrss-expert", "skip_key": "#",
         "prompt": "您好，12333已并入12345，请稍候"},
        {"id": "tour", "name": "旅游服务电话", "numbers": ["88348666-1", "12318"], "department": "市文广旅局",
         "mode": "full_merge", "effective": "2026-11-21", "transition_end": "2026-12-20",
         "department_target": "trunk:pstn/88348666-1"},
        {"id": "house-81610000", "name": "房产服务电话", "numbers": ["81610000"], "department": "市住建局",
         "mode": "full_merge", "effective": "2026-11-21", "transition_end": "2026-12-20"},
        {"id": "forest-12119", "name": "森林草原火警报警电话", "numbers": ["12119"], "department": "市应急局",
         "mode": "full_merge", "effective": "2026-11-21", "transition_end": "2026-12-20", "during": "hangup"},
        {"id": "fire-96119", "name": "火灾隐患举报投诉电话", "numbers": ["96119"], "department": "市消防救援支队",
         "mode": "full_merge", "effective": "2026-11-21", "transition_end": "2026-12-20",
         "after": "department", "department_target": "trunk:pstn/96119"},
        {"id": "build-88210110", "name": "违章建设举报电话", "numbers": ["88210110"], "department": "市自然资源和规划局",
         "mode": "full_merge", "effective": "2026-11-21", "after": "not_in_service"},
        {"id": "civil-12349", "name": "全国统一民政服务电话", "numbers": ["12349"], "department": "市民政局",
         "mode": "full_merge", "effective": "2026-12-01T08:30:00", "transition_end": "2026-12-05T12:00:00+08:00"},
        {"id": "traffic-12328", "name": "全国交通运输服务监督电话", "numbers": ["12328"], "department": "市交通运输局",
         "mode": "dual_number", "effective": "2026-11-21", "seats": "pooled",
         "department_target": "trunk:pstn/12328"},
        {"id": "fund-12329", "name": "全国统一住房公积金热线", "numbers": ["12329"], "department": "市住房公积金管理中心",
         "mode": "dual_number", "effective": "2026-11-21", "seats": "pooled", "queue": "fund-expert"},
        {"id": "env-12369", "name": "环境保护投诉举报电话", "numbers": ["12369"], "department": "市生态环境局",
         "mode": "dual_number", "effective": "2026-11-21", "seats": "retained",
         "department_target": "trunk:pstn/12369"},
        {"id": "tax-12366", "name": "全国税务系统统一电话", "numbers": ["12366"], "department": "市税务局",
         "mode": "sub_center", "effective": "2026-12-15", "sub_center": "tax"},
    ],
}


def config_data(**hotline_entry) -> dict:
    """A fresh copy of the plan; keyword arguments go into hotline.entry."""
    data = copy.deepcopy(BASE)
    if hotline_entry:
        data["hotline"]["entry"] = hotline_entry
    return data


def make_config(data: dict | None = None, *, checked: bool = True) -> Config:
    """A Config from `data`; `checked` also runs the real whole-file checks, as load_config does."""
    config = Config.model_validate(config_data() if data is None else data)
    if checked:
        findings = check_config(config)
        assert not findings, findings
    return config
