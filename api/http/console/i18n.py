"""The console's words in Chinese (the default) and English: page text, the window's stages, the
rules that refuse a command and the fields they name.

Key statuses, events and the hotline's advice come from `projections.key_status.advice`, the
table the API shares (`key_card.py` lays them out); form, filing and supplier labels from `domain`.
"""

from __future__ import annotations

from typing import Final

from api.http.refusals import REFUSALS

LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"

TEXT: Final[dict[str, tuple[str, str]]] = {
    "app": ("电子口岸窗口工作台", "E-Port window console"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "login": ("账号", "Login"),
    "password": ("密码", "Password"),
    "or": ("或", "or"),
    "sso_hint": ("使用单位统一身份认证登录", "Sign in with the organisation's single sign-on"),
    "bad_login": ("账号或密码不正确，或账号已停用。", "Wrong login or password, or disabled."),
    "too_many": ("登录失败次数过多，请稍后再试。", "Too many failed sign-ins; try again later."),
    "signed_out": ("您已退出登录。", "You are signed out."),
    "expired": ("登录已超时，请重新登录。", "Your session ended; please sign in again."),
    "csrf": ("页面已过期，请刷新后重试。", "The page expired; reload it and try again."),
    "forbidden": ("无权访问此页面。", "You may not open this page."),
    "forbidden_hint": (
        "此页面不属于您的角色。请返回首页。",
        "This page is not for your role. Go back to your start page.",
    ),
    "home": ("首页", "Home"),
    "not_found": ("未找到。", "Not found."),
    "sso_failed": ("统一身份认证登录失败：", "Single sign-on failed: "),
    "sso_unknown": (
        "该用户未在本系统开通账号，请联系管理员。",
        "This person has no account here; ask an administrator.",
    ),
    "sso_role": (
        "统一身份认证中的角色与本系统账号不符。",
        "The role in the sign-on differs from the account's role.",
    ),
    "role_enterprise": ("企业", "Enterprise"),
    "role_window": ("窗口", "Window"),
    "role_hotline": ("热线", "Hotline"),
    "role_auditor": ("审计", "Auditor"),
    "role_admin": ("管理员", "Administrator"),
    "nav_queue": ("工作队列", "Queue"),
    "nav_find": ("查找企业", "Find enterprise"),
    "nav_hotline": ("热线查询", "Hotline lookup"),
    "nav_audit": ("账本状态", "Ledger status"),
    "nav_history": ("历史查询", "History"),
    "nav_asof": ("视图回溯", "Views as of"),
    "nav_downloads": ("证据下载", "Evidence"),
    "nav_enterprise": ("本企业", "My enterprise"),
    "save": ("保存", "Save"),
    "search": ("查询", "Search"),
    "submit": ("提交", "Submit"),
    "done": ("已完成。", "Done."),
    "errors_above": ("请更正标红的内容。", "Please correct the fields marked in red."),
    "none": ("无", "none"),
    "count": ("件", "items"),
    "uscc": ("统一社会信用代码", "USCC"),
    "company": ("企业名称", "Company"),
    "customs_code": ("海关编码", "Customs code"),
    "receipt_number": ("备案回执编号", "Receipt number"),
    "card_no": ("卡号", "Card number"),
    "since": ("起始时间", "Since"),
    "age_days": ("等待天数", "Days waiting"),
    "open": ("打开", "Open"),
    "review_state": ("审核状态", "Review"),
    "state_draft": ("填报中", "draft"),
    "state_awaiting_review": ("待审核", "awaiting review"),
    "state_approved": ("已通过", "approved"),
    "state_rejected": ("已退回", "rejected"),
    "filing_missing": ("未提交", "missing"),
    "filing_submitted": ("已提交", "submitted"),
    "filing_approved": ("已通过", "approved"),
    "filing_rejected": ("已退回", "rejected"),
    "filings": ("四项备案", "The four filings"),
    "materials": ("上传材料（类型：其他）", "Uploaded materials (type: other)"),
    "approve": ("审核通过", "Approve"),
    "reject": ("退回", "Reject"),
    "reason": ("原因", "Reason"),
    "review": ("窗口审核", "Window review"),
    "last_review": ("上次审核", "Last review"),
    "issue_pair": ("发放免费Ukey（法人卡 + 操作员卡）", "Issue the free pair"),
    "issue": ("发卡", "Issue"),
    "lp_card_no": ("法人卡卡号", "Legal-person card number"),
    "op_card_no": ("操作员卡卡号", "Operator card number"),
    "lp_media": ("法人卡介质", "Legal-person key medium"),
    "lp_cert": ("法人卡证书编号（可选）", "Legal-person certificate number (optional)"),
    "op_cert": ("操作员卡证书编号（可选）", "Operator certificate number (optional)"),
    "mail_pair": ("EMS邮寄（一个包裹，两把钥匙）", "EMS mailing (one parcel, both keys)"),
    "mail": ("交EMS寄出", "Hand to EMS"),
    "case_number": ("办件编号", "Case number"),
    "order_number": ("订单号", "Order number"),
    "ems_tracking_number": ("快递单号", "EMS tracking number"),
    "sending_dept": ("寄送部门", "Sending department"),
    "recipient_address": ("收件人地址", "Recipient address"),
    "postcode": ("邮编", "Postcode"),
    "recipient_name": ("收件人姓名", "Recipient name"),
    "recipient_phone": ("收件人联系电话", "Recipient phone"),
    "approver": ("审批办人员", "Approving clerk"),
    "express_window_clerk": ("不见面审批快递窗口人员", "Express-window clerk"),
    "postal_clerk": ("邮政工作人员", "Postal clerk"),
    "signature_date": ("日期", "Date"),
    "keys": ("Ukey", "Keys"),
    "status": ("状态", "Status"),
    "holder": ("持卡人", "Holder"),
    "valid_until": ("有效期至", "Valid until"),
    "attempts_left": ("剩余次数", "Attempts left"),
    "actions": ("操作", "Actions"),
    "delivered": ("记录签收", "Record delivery"),
    "handed_over": ("窗口领取", "Handed over at the window"),
    "unlock": ("解锁", "Unlock"),
    "freeze": ("冻结", "Freeze"),
    "loss": ("挂失", "Report lost"),
    "void": ("作废", "Void"),
    "replace": ("补办", "Replace"),
    "renewal": ("证书更新", "Renewal"),
    "renewal_request": ("登记证书更新申请", "Record a renewal application"),
    "pre_approve": ("预审通过", "Pre-approve"),
    "renew": ("现场办理证书更新", "Renew in person"),
    "documents": ("材料清单", "Documents"),
    "new_card_no": ("新卡卡号", "New card number"),
    "supplier": ("供应商", "Supplier"),
    "product": ("产品", "Product"),
    "certificate_number": ("证书编号", "Certificate number"),
    "application": ("申请编号", "Application"),
    "key_page": ("Ukey详情", "Key"),
    "card_holders": ("持卡人", "Card holders"),
    "permissions": ("业务权限", "Permissions"),
    "legal_representative": ("法定代表人", "Legal representative"),
    "business_address": ("经营地址", "Business address"),
    "hotline_q": (
        "卡号、统一社会信用代码、企业名称、持卡人姓名、手机号或证件号码",
        "card number, USCC, company name, holder name, phone or ID number",
    ),
    "hotline_none": ("没有找到对应的Ukey。", "No key found."),
    "searched_by": ("查询方式", "Searched by"),
    "by_card": ("卡号", "card number"),
    "by_uscc": ("统一社会信用代码", "USCC"),
    "by_company": ("企业名称", "company name"),
    "by_name": ("持卡人姓名", "holder name"),
    "by_phone": ("手机号/电话", "phone"),
    "by_id": ("证件号码", "ID number"),
    "last_event": ("最近一次", "Last event"),
    "tell_caller": ("告知来电人", "Tell the caller"),
    "contacts": ("联系电话", "Contacts"),
    "ledger_size": ("账本条目数", "Ledger entries"),
    "chain_head": ("哈希链头", "Chain head"),
    "last_checkpoint": ("最新检查点", "Latest checkpoint"),
    "checkpoint_age": ("距今", "Age"),
    "merkle_root": ("Merkle根", "Merkle root"),
    "no_checkpoint": ("尚未签署检查点。", "No checkpoint signed yet."),
    "sign_checkpoint": ("立即签署检查点", "Sign a checkpoint now"),
    "last_verify": ("最近一次完整校验", "Last full verification"),
    "verify_now": ("立即完整校验", "Verify the whole ledger now"),
    "intact": ("完好", "intact"),
    "tampered": ("发现篡改", "TAMPERED"),
    "never": ("从未执行", "never run"),
    "stream": ("记录流", "Stream"),
    "as_of": ("截至", "As of"),
    "as_of_hint": (
        "日期时间（北京时间）或账本位置（数字）；留空为当前",
        "date and time (China time) or a ledger position (digits); empty for now",
    ),
    "history": ("历史", "History"),
    "ledger_index": ("账本位置", "Ledger index"),
    "event": ("事件", "Event"),
    "actor": ("操作人", "Actor"),
    "time": ("时间", "Time"),
    "covering_checkpoint": ("覆盖的检查点", "Covering checkpoint"),
    "view": ("视图", "View"),
    "view_key": ("Ukey状态（按卡号）", "Key status (by card number)"),
    "view_enterprise": ("企业概况（按统一社会信用代码）", "Enterprise overview (by USCC)"),
    "view_queue": ("窗口工作队列", "Window queue"),
    "subject": ("查询对象", "Subject"),
    "asof_built": ("按截至时刻重建的视图，账本位置", "Views rebuilt as of ledger position"),
    "downloads": ("下载证据并离线校验", "Download evidence and check it offline"),
    "dl_checkpoint": ("最新检查点（JSON）", "Latest checkpoint (JSON)"),
    "dl_public_key": ("签名公钥（PEM）", "Signing public key (PEM)"),
    "dl_inclusion": ("包含证明", "Inclusion proof"),
    "dl_consistency": ("一致性证明", "Consistency proof"),
    "dl_export": ("账本导出（JSON Lines）", "Ledger export (JSON Lines)"),
    "index": ("账本位置", "Ledger index"),
    "from_size": ("旧检查点大小", "Older tree size"),
    "download": ("下载", "Download"),
    "offline_cmd": ("离线校验命令", "Check offline with"),
    "my_enterprise": ("本企业", "My enterprise"),
    "admin_hint": (
        "员工账号用命令行管理：eport-ledger staff create / list / disable。",
        "Staff accounts are managed on the command line: eport-ledger staff create / list / "
        "disable.",
    ),
    "staff_accounts": ("员工账号", "Staff accounts"),
    "fill_in": ("填写", "Fill in"),
    "refile": ("修改后重新提交", "Correct and resubmit"),
    "gender_male": ("男", "male"),
    "gender_female": ("女", "female"),
    "f_back": ("返回", "Back"),
    "f_three_in_one": ("三证合一信息", "Business-registration data"),
    "f_business_registration_dept_code": ("工商审核单位代码", "Business-registration dept. code"),
    "f_commerce_authority_code": ("商务部主管机关代码", "Commerce authority code"),
    "f_upload_type": ("上传材料类型", "Materials uploaded as"),
    "f_upload_other": (
        "其他：附件2《中国电子口岸企业IC卡登记表》、附件3《快递交接单》（填写如下）",
        "other: attachment 2 (IC-card registration form) and 3 (handover form), below",
    ),
    "f_form2": ("中国电子口岸企业IC卡登记表", "China E-Port enterprise IC-card registration form"),
    "f_form3": (
        "全程互联网“不见面审批”快递交接单（申请人填写部分）",
        "Express handover form (the applicant's part)",
    ),
    "f_legal_person": ("法人卡持卡人基本信息", "Legal-person card holder"),
    "f_operator": ("操作员卡持卡人基本信息", "Operator card holder"),
    "f_holder_name": ("持卡人姓名", "Holder's name"),
    "f_gender": ("性别", "Gender"),
    "f_nationality": ("国籍/地区", "Nationality / region"),
    "f_position": ("职务", "Position"),
    "f_phone": ("联系电话", "Phone"),
    "f_id_type": ("证件类别", "ID document"),
    "f_id_number": ("证件号码", "ID number"),
    "f_media": ("操作员卡类型", "Operator key medium"),
    "f_education": ("学历", "Education"),
    "f_birth_date": ("出生日期", "Date of birth"),
    "f_household_address": ("户口地址", "Household address"),
    "f_user_address": ("用户地址", "Address"),
    "f_email": ("电子信箱", "E-mail"),
    "f_fax": ("传真", "Fax"),
    "f_if_any": ("（如有）", "(if any)"),
    "f_declarer": ("报关员备案信息", "Customs declarer"),
    "f_exam_score": ("考试成绩", "Exam score"),
    "f_barcode": ("条码号", "Barcode"),
    "f_declarer_certificate": ("报关员证号", "Declarer certificate"),
    "f_declaration_category": ("报关类别", "Declaration category"),
    "f_issue_date": ("发证日期", "Issued on"),
    "f_registration_valid_until": ("注册有效期", "Registration valid until"),
    "f_remarks": ("备注", "Remarks"),
    "f_customs_permissions": ("操作员向海关申请权限", "Permissions asked of customs"),
    "f_officer": ("核销员备案信息", "Verification officer"),
    "f_officer_certificate": ("核销员证号", "Officer certificate"),
    "f_forex_permissions": ("操作员向外汇局申请权限", "Permissions asked of the forex bureau"),
    "f_seal": ("申请单位签章", "Applicant's seal"),
    "f_seal_hint": ("盖章后扫描上传，此处填写盖章日期", "sealed on paper; give the date"),
    "f_receipt_date": ("回执日期", "Receipt date"),
    "f_receipt_hint": (
        "按海关进出口货物收发货人备案回执填写；回执编号与回执日期至少填写一项。",
        "As on the customs registration receipt: its number, its date, or both.",
    ),
    "f_forex_bureau_code": ("主管外汇局代码", "Forex bureau code"),
    "f_preentry_hint": (
        "每位操作员填写一栏；需要更多栏时点“增加一名操作员”，不用的栏留空。",
        "One block per operator; “Add an operator” for another; leave unused blocks empty.",
    ),
    "f_operator_n": ("操作员", "Operator"),
    "f_add_operator": ("增加一名操作员", "Add an operator"),
    "done_filing": ("备案已提交。", "Filing submitted."),
    "lang_other": ("English", "中文"),
    "stage_awaiting_review": ("待审核", "Awaiting review"),
    "stage_approved_awaiting_issue": ("待发卡", "Awaiting issue"),
    "stage_issued_awaiting_mailing": ("待邮寄", "Awaiting mailing"),
    "stage_locked_keys": ("已锁定", "Locked keys"),
    "stage_expiring": ("即将到期", "Expiring"),
    "stage_renewals_awaiting_pre_review": ("待预审", "Renewals to pre-review"),
    "stage_renewals_awaiting_visit": ("待现场更新", "Renewals awaiting visit"),
    "done_reject": ("已退回，并记录原因。", "Rejected, with the reason recorded."),
    "done_approve": ("审核通过。", "Approved."),
    "done_issue": ("两把免费Ukey已发放。", "The free pair is issued."),
    "done_mail": ("两把Ukey已交EMS寄出（一个包裹）。", "Both keys handed to EMS (one parcel)."),
    "done_delivery": ("已记录签收。", "Delivery recorded."),
    "done_unlock": ("已解锁，密码恢复为88888888。", "Unlocked; the PIN is 88888888 again."),
    "done_freeze": ("已冻结。", "Frozen."),
    "done_loss": ("已挂失。", "Reported lost."),
    "done_void": ("已作废。", "Voided."),
    "done_replace": ("已补办，新卡已登记。", "Replaced; the new key is recorded."),
    "done_renewal_request": ("证书更新申请已登记。", "Renewal application recorded."),
    "done_pre_approve": ("预审通过。", "Pre-approved."),
    "done_renew": ("证书已更新十年。", "Renewed for ten years."),
    "done_checkpoint": ("检查点已签署。", "Checkpoint signed."),
    "done_verify": ("完整校验已完成。", "Full verification finished."),
}

RULES: Final[dict[str, tuple[str, str]]] = {
    # Where a page says a rule differently from the API's title (api/http/refusals.py); every
    # other rule is shown in the words of that one list.
    "free_pair_already_issued": (
        "免费Ukey已发放过（每次入网一次）。",
        "The free pair was issued already (once per enrollment).",
    ),
    "renewal_document_missing": ("材料不齐：", "Documents missing: "),
    "invalid": ("格式不正确。", "Not valid."),
    "missing": ("必填。", "Required."),
    "idempotency_key_reused": ("表单已提交过，请刷新页面。", "This form was sent already."),
}

PYDANTIC: Final[dict[str, tuple[str, str]]] = {
    "missing": ("必填。", "Required."),
    "string_too_short": ("必填。", "Required."),
    "string_too_long": ("内容过长。", "Too long."),
    "string_pattern_mismatch": ("格式不正确。", "Wrong format."),
    "date_from_datetime_parsing": ("日期格式不正确。", "Not a date."),
    "date_parsing": ("日期格式不正确。", "Not a date."),
    "enum": ("请选择列表中的一项。", "Choose one of the list."),
    "literal_error": ("请选择列表中的一项。", "Choose one of the list."),
    "int_parsing": ("应为整数。", "A whole number."),
    "greater_than_equal": ("数值过小。", "Too small."),
    "less_than_equal": ("数值过大。", "Too large."),
}

_CARD_NO: Final = ("卡号最多20位，只含数字、字母和“-”。", "Up to 20 digits, letters and '-'.")
_CERTIFICATE_NUMBER: Final = ("证书编号为16位十六进制字符。", "16 hex characters.")
_REFERENCE: Final = ("只能包含字母、数字和“-”。", "Letters, digits and '-' only.")

_SIX_DIGITS: Final = ("应为6位数字。", "6 digits.")
_PHONE: Final = (
    "电话号码无效：手机号11位，固定电话需带区号（如 0898-68516652）。",
    "Not a phone number: an 11-digit mobile, or a landline with its area code.",
)

FIELD_HINTS: Final[dict[str, tuple[str, str]]] = {
    "ems_tracking_number": (
        "快递单号无效：应为13位国内EMS单号（以1、8或9开头），"
        "或如 EA123456785CN 的国际单号（校验位须正确）。",
        "Not an EMS number: 13 domestic digits starting 1, 8 or 9, or an S10 number such as "
        "EA123456785CN with a correct check digit.",
    ),
    "recipient_phone": _PHONE,
    "postcode": ("邮编应为6位数字。", "A postcode is 6 digits."),
    "legal_person_card_no": _CARD_NO,
    "operator_card_no": _CARD_NO,
    "new_card_no": _CARD_NO,
    "certificate_number": _CERTIFICATE_NUMBER,
    "legal_person_certificate_number": _CERTIFICATE_NUMBER,
    "operator_certificate_number": _CERTIFICATE_NUMBER,
    "case_number": _REFERENCE,
    "phone": _PHONE,
    "fax": _PHONE,
    "id_number": (
        "证件号码无效或重复：居民身份证号码为18位，末位校验码须正确；其他证件为1-30位字母和数字；"
        "同一人只填写一次。",
        "Not a valid ID number, or given twice: a resident ID is 18 characters with a correct "
        "check digit; other documents 1-30 letters and digits.",
    ),
    "birth_date": (
        "出生日期须与居民身份证号码中的一致。",
        "The date of birth must be the one in the resident ID number.",
    ),
    "email": ("电子信箱格式不正确。", "Not an e-mail address."),
    "business_registration_dept_code": _SIX_DIGITS,
    "forex_bureau_code": _SIX_DIGITS,
    "commerce_authority_code": ("应为4位数字。", "4 digits."),
    "customs_code": ("海关编码为10位，按备案回执填写。", "10 characters, as on the receipt."),
    "receipt_number": (
        "请填写备案回执编号（字母、数字和“-”）或回执日期。",
        "Give the receipt's number (letters, digits, '-') or its date.",
    ),
    "order_number": _REFERENCE,
}


def _in(pair: tuple[str, str], lang: str) -> str:
    """One of a (zh, en) pair: English for `en`, else Chinese."""
    return pair[1] if lang == "en" else pair[0]


def text(key: str, lang: str) -> str:
    """The page text `key` in `lang` (the key itself when unknown)."""
    pair = TEXT.get(key)
    return key if pair is None else _in(pair, lang)


def _refusal_words(rule: str) -> tuple[str, str] | None:
    """A rule's title from the API's one list of refusals, as a sentence in each language."""
    refusal = REFUSALS.get(rule)
    return None if refusal is None else (f"{refusal.zh}。", f"{refusal.en}.")


def rule_message(rule: str, detail: str, lang: str) -> str:
    """A refusal in words: the rule's sentence (with the detail where it adds the specifics)."""
    pair = RULES.get(rule) or _refusal_words(rule)
    if pair is None:
        return detail
    said = _in(pair, lang)
    if rule in ("renewal_document_missing", "wrong_department_code", "key_not_usable"):
        return f"{said}{detail}" if rule == "renewal_document_missing" else f"{said}（{detail}）"
    return said


def field_message(field: str, error_type: str, detail: str, lang: str) -> str:
    """A field's validation error in words: the field's own hint, or the error type's."""
    pair = FIELD_HINTS.get(field.rsplit(".", 1)[-1])
    if pair is None or error_type in ("missing", "string_too_short"):
        pair = PYDANTIC.get(error_type)
    if pair is None:
        return detail if lang == "en" else f"格式不正确（{detail}）"
    return _in(pair, lang)
