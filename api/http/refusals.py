"""Every rule a request can be refused by: its HTTP status and its title in English and Chinese.

The one list the problem documents take their `title` and `title_zh` from (api/http/errors.py),
and that docs/api.md prints under "Refusals" (`python -m api.http.refusals` writes that table;
tests/api/test_refusals.py checks that the code raises no rule missing here, and that the page
lists exactly these).
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Final


@dataclass(frozen=True, slots=True)
class Refusal:
    """How a rule answers: the status and a title (what the rule says, not this occurrence)."""

    status: int
    en: str
    zh: str


REFUSALS: Final[dict[str, Refusal]] = {
    # -- enrollment (入网备案) ------------------------------------------------------------------
    "already_approved": Refusal(422, "The enterprise is approved already", "该企业已审核通过"),
    "customs_code_mismatch": Refusal(
        422, "Not the registered customs code", "海关编码与登记的不一致"
    ),
    "customs_receipt_required": Refusal(
        422, "The customs registration receipt is required", "需要海关备案回执"
    ),
    "enterprise_not_approved": Refusal(422, "The enterprise is not approved", "企业尚未审核通过"),
    "filings_incomplete": Refusal(422, "The four filings are not all in", "四项备案尚未提交齐全"),
    "invalid_customs_code": Refusal(422, "Not a customs code", "海关编码格式不正确"),
    "invalid_uscc": Refusal(422, "Not a unified social credit code", "统一社会信用代码不正确"),
    "name_required": Refusal(422, "A name is required", "请填写名称"),
    "not_awaiting_review": Refusal(
        422, "The enterprise is not awaiting review", "该企业不在待审核状态"
    ),
    "nothing_changed": Refusal(
        422, "The change repeats the current information", "变更内容与现有信息相同"
    ),
    "region_mismatch": Refusal(422, "Not of this region", "不属于本地区"),
    "unknown_filing_kind": Refusal(422, "Not one of the four filings", "不是四项备案之一"),
    "unknown_region": Refusal(422, "Unknown region", "未知地区"),
    "window_required": Refusal(422, "The window is required", "请填写窗口"),
    "wrong_department_code": Refusal(
        422, "Not this region's department code", "部门代码不是本地区的"
    ),
    # -- card holders and permissions (持卡人, 业务授权) ----------------------------------------
    "holder_kind_mismatch": Refusal(
        422, "The holder's data is not of that kind of holder", "持卡人信息与持卡人类型不符"
    ),
    "holder_name_required": Refusal(422, "The holder's name is required", "请填写持卡人姓名"),
    "legal_person_key_required": Refusal(
        422, "An active legal-person key is needed", "需要有效的法人卡授权"
    ),
    "no_permissions": Refusal(422, "Name at least one permission", "请至少选择一项权限"),
    "not_an_operator": Refusal(
        422, "Only operators hold these permissions", "只有操作员可以办理此项授权"
    ),
    "permission_already_granted": Refusal(422, "The permission is granted already", "该权限已授予"),
    "permission_not_granted": Refusal(422, "The permission is not granted", "该权限未授予"),
    "unknown_holder": Refusal(422, "No such card holder of the enterprise", "该企业没有这个持卡人"),
    # -- keys (UKEY) ---------------------------------------------------------------------------
    "already_delivered": Refusal(422, "The key was delivered already", "该Ukey已签收"),
    "already_mailed": Refusal(422, "The key was mailed already", "该Ukey已寄出"),
    "card_number_mismatch": Refusal(
        422, "The form lists another card number", "交接单上的卡号与该Ukey不符"
    ),
    "duplicate_card_number": Refusal(422, "This card number is taken", "该卡号已被使用"),
    "free_pair_already_issued": Refusal(
        422, "The free pair was issued already (once per enrollment)", "免费Ukey已发放过"
    ),
    "free_pair_not_issued": Refusal(422, "No free pair was issued", "尚未发放免费Ukey"),
    "invalid_card_number": Refusal(422, "Not a card number", "卡号格式不正确"),
    "invalid_certificate_number": Refusal(422, "Not a certificate number", "证书编号格式不正确"),
    "invalid_channel": Refusal(
        422, "Delivered by EMS or at the window only", "签收方式只能是EMS或窗口"
    ),
    "key_locked": Refusal(422, "The key is locked", "该Ukey已锁定"),
    "key_not_delivered": Refusal(422, "The key has not reached its holder", "该Ukey尚未签收"),
    "key_not_usable": Refusal(
        422, "The key's status does not allow this", "该Ukey当前状态不能办理此业务"
    ),
    "legal_person_key_exists": Refusal(
        422, "The legal person has a working key already", "法定代表人已有可用的法人卡"
    ),
    "not_free_issue": Refusal(
        422, "Only the free keys are mailed by the window", "只有免费发放的Ukey由窗口邮寄"
    ),
    "not_frozen": Refusal(422, "The key is not frozen", "该Ukey未冻结"),
    "not_locked": Refusal(422, "The key is not locked", "该Ukey未锁定"),
    "not_mailed": Refusal(422, "The key was not mailed", "该Ukey尚未寄出"),
    "reason_required": Refusal(422, "Give a reason", "请填写原因"),
    "renewal_already_pending": Refusal(
        422, "A renewal is open already", "已有未完成的证书更新申请"
    ),
    "renewal_application_exists": Refusal(422, "That application exists", "该申请已存在"),
    "renewal_document_missing": Refusal(422, "Documents are missing", "材料不齐"),
    "renewal_not_pre_approved": Refusal(
        422, "The renewal is not pre-approved", "证书更新申请尚未预审通过"
    ),
    "renewal_not_requested": Refusal(
        422, "The renewal application is not awaiting pre-approval", "证书更新申请不在待预审状态"
    ),
    "same_card_number": Refusal(
        422, "The new card number is the old one", "新卡号不能与原卡号相同"
    ),
    "unknown_renewal_application": Refusal(
        404, "No such renewal application", "没有这个证书更新申请"
    ),
    # -- personal data (个人信息) --------------------------------------------------------------
    "nothing_to_erase": Refusal(
        422, "No readable personal data belongs to this person", "此人没有可删除的个人信息"
    ),
    "personal_data_erased": Refusal(
        422, "The personal data this needs was erased", "所需的个人信息已被删除"
    ),
    "subject_required": Refusal(422, "Name the card holder or the person", "请指明持卡人或个人"),
    "unknown_finder": Refusal(
        422, "People are found by ID number or phone", "只能按证件号码或电话查找"
    ),
    # -- requests ------------------------------------------------------------------------------
    "already_exists": Refusal(409, "It exists already", "记录已存在"),
    "bad_request": Refusal(400, "Bad request", "请求有误"),
    "body_too_large": Refusal(413, "Payload too large", "请求内容过大"),
    "concurrent_change": Refusal(
        409, "Another request changed it at the same time; retry", "记录正被同时修改，请重试"
    ),
    "idempotency_key_reused": Refusal(
        422, "The Idempotency-Key was used for another request", "该幂等键已用于其他请求"
    ),
    "invalid": Refusal(422, "Not valid", "格式不正确"),
    "invalid_if_match": Refusal(422, "If-Match is not a version", "If-Match 应为版本号"),
    "invalid_request": Refusal(422, "The request is not valid", "请求内容不正确"),
    "method_not_allowed": Refusal(405, "Method not allowed", "不支持该请求方法"),
    "min_position_beyond_ledger": Refusal(
        422, "min_position is beyond the ledger", "min_position 超出账本位置"
    ),
    "not_found": Refusal(404, "Not found", "未找到"),
    "version_mismatch": Refusal(
        412, "Someone changed this record; reload and try again", "记录已被他人更新，请刷新后重试"
    ),
    # -- who may call (令牌, 角色) --------------------------------------------------------------
    "expiry_in_the_past": Refusal(
        422, "A token must expire after it is granted", "令牌的到期时间必须晚于签发时间"
    ),
    "invalid_token": Refusal(
        401, "The token is unknown, expired or revoked", "令牌无效、已过期或已撤销"
    ),
    "invalid_token_request": Refusal(422, "Not a token that can be issued", "无法签发该令牌"),
    "other_enterprise": Refusal(403, "Another enterprise's record", "不是本企业的记录"),
    "role_not_allowed": Refusal(403, "Your role may not do this", "您的角色不能办理此业务"),
    "token_required": Refusal(401, "A bearer token is required", "需要令牌"),
    "too_many_failed_authentications": Refusal(
        429, "Too many failed authentications", "认证失败次数过多"
    ),
    "too_many_requests": Refusal(
        429, "Too many requests from this principal; retry later", "请求过于频繁，请稍后重试"
    ),
    # -- the service ---------------------------------------------------------------------------
    "database_unavailable": Refusal(503, "The database cannot be reached", "数据库暂时无法访问"),
    "internal_error": Refusal(500, "Internal error", "内部错误"),
    "views_behind": Refusal(503, "The views have not caught up yet", "视图尚未更新到该位置"),
    # -- audit (审计) ---------------------------------------------------------------------------
    "invalid_stream_query": Refusal(
        422, "Not a stream or moment of the ledger", "流名称或时间点不正确"
    ),
    "no_checkpoint": Refusal(404, "No checkpoint has been signed yet", "尚未签署检查点"),
    "proof_not_available": Refusal(422, "No such proof", "无法提供该证明"),
}


def refusal(rule: str, status: int) -> Refusal:
    """The rule's entry; for a rule not listed (none is, by the tests), the status' phrase."""
    found = REFUSALS.get(rule)
    if found is not None:
        return found
    return Refusal(status, HTTPStatus(status).phrase, HTTPStatus(status).phrase)


def markdown_table() -> str:
    """The table docs/api.md prints under "Refusals", in rule order."""
    lines = ["| rule | status | title | 中文 |", "|---|---|---|---|"]
    for rule, found in sorted(REFUSALS.items()):
        lines.append(f"| `{rule}` | {found.status} | {found.en} | {found.zh} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
