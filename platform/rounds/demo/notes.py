"""What field staff write in the demo: a note on a failed item that says what was wrong with
that item, and an assignee's fix note that says what was done about it.

Keyed by the item ids of the shipped standards; an item of another standard gets a note
built from its own title, so it still matches its item.
"""

from __future__ import annotations

import random
from typing import Any

from rounds.i18n import pick

# item id → (what was found, what was done about it): notes a field worker writes in Chinese.
NOTES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stock_checked": (("库房未清点，库存情况不清。",),
                      ("已和店主一起清点柜台和库房库存，记下断货品规。",)),
    "demand_forecast": (("未与店主沟通下周需求。",),
                        ("已电话沟通下周需求，预测已录入。",)),
    "new_brand_recommended": (("新品未向店主推荐。",),
                              ("已推荐新品规并讲解卖点，店主同意试销。",)),
    "reorder_advised": (("断货品规未指导补订。",), ("已指导店主在下个订货日补订。",)),
    "display_standard": (("卷烟陈列杂乱，品规混放。", "柜台陈列不整齐，部分品规无法看到。"),
                         ("已按品牌分区重新陈列。", "已协助店主整理柜台陈列。")),
    "display_guidance": (("未现场指导调整陈列。",), ("已现场指导店主调整陈列。",)),
    "price_tags_complete": (("有两个品规缺少价签。", "部分价签与实际售价不符。",
                             "价签褪色看不清，需更换。"),
                            ("已补齐缺失价签。", "已更换为统一价签，价格与售价一致。")),
    "policy_explained": (("本月货源投放政策未宣传到位。",), ("已向店主讲解本月货源投放政策。",)),
    "self_discipline_group": (("店主未参加本月自律小组活动。",),
                              ("已动员店主参加下次自律小组活动。",)),
    "advice_given": (("未结合盈利情况提出经营建议。",), ("已结合毛利情况建议调整订货结构。",)),
    "on_time": (("送货晚于约定时段一小时。",), ("已调整送货线路顺序，按约定时段送达。",)),
    "goods_match_order": (("少送一条，品规与订单不符。", "送错品规，已拍照。"),
                          ("已补送缺少的一条卷烟。", "已调换为订单品规，店主签收。")),
    "payment_collected": (("货款未结清。",), ("货款已结清，已开具凭证。",)),
    "damaged_exchanged": (("一条卷烟外包装破损，未当场调换。",),
                          ("已调换破损卷烟，店主确认。",)),
    "uniform_and_badge": (("送货员未佩戴工牌。",), ("已佩戴工牌，统一着装。",)),
    "polite_service": (("零售户反映搬货时动作粗鲁。",), ("已当面致歉，今后轻拿轻放。",)),
    "cargo_tidy": (("车厢内卷烟未分线路码放。",), ("已按线路分户重新码放。",)),
    "cargo_locked": (("离车时车厢未上锁。",), ("已整改，离车即锁，班组长已抽查。",)),
    "safe_parking": (("送货车辆占用人行道停车。",), ("已学习停车规范，改在指定位置停车。",)),
    "visit_confirmed": (("零售户表示本月客户经理未到店。",),
                        ("客户经理已补充到店拜访，零售户确认。",)),
    "record_matches": (("系统拜访记录与零售户所述不一致。",),
                       ("已核实拜访记录，情况说明已提交。",)),
    "licence_displayed": (("许可证未悬挂在醒目位置。",), ("已将许可证悬挂在收银台上方。",)),
    "licence_valid": (("许可证已过有效期。",), ("已指导零售户办理延续手续，新证已悬挂。",)),
    "licence_matches": (("经营地址与许可证登记地址不一致。",),
                        ("已指导零售户办理地址变更。",)),
    "no_counterfeit": (("柜台发现疑似假冒卷烟两条，已拍照固定。",),
                       ("疑似假烟已先行登记保存，移交稽查处理。",)),
    "no_smuggled": (("发现无防伪标识的外烟一条，已拍照。",),
                    ("涉嫌走私卷烟已登记，移交稽查处理。",)),
    "no_illegal_source": (("部分卷烟无法说明进货来源。",),
                          ("已责令说明进货渠道，相关卷烟已登记。",)),
    "case_transferred": (("涉案线索尚未移交。",), ("线索已移交稽查大队。",)),
    "minor_sign_displayed": (("未张贴“不向未成年人售烟”标识。",),
                             ("已张贴“不向未成年人售烟”标识。",)),
    "prices_marked": (("在售卷烟有未明码标价的品规。",), ("已补齐全部品规价签。",)),
}


def _title(item: dict[str, Any] | None, item_id: str) -> str:
    title = (item or {}).get("title") or {}
    return pick(title, "zh", item_id) if isinstance(title, dict) else item_id


def problem_note(item_id: str, item: dict[str, Any] | None, rng: random.Random) -> str:
    """A field worker's note on a failed item: what was wrong with that item."""
    if item_id in NOTES:
        return rng.choice(NOTES[item_id][0])
    return f"“{_title(item, item_id)}”未达标，已拍照留存并告知店主。"


def fix_note(item_id: str, item: dict[str, Any] | None, rng: random.Random) -> str:
    """An assignee's note on a fix: what was done about that item."""
    if item_id in NOTES:
        return rng.choice(NOTES[item_id][1])
    return f"已按要求整改“{_title(item, item_id)}”，现场复核无误。"
