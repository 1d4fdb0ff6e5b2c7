"""The agreement (人民调解协议书) and the joint application for judicial confirmation
(司法确认申请书) as Chinese PDFs."""

import segno
from flask import current_app, request
from flask_babel import force_locale

from mediation.agreements import rules
from mediation.agreements.models import Liability
from mediation.cases.models import Party, PartyKind
from mediation.core.calendar import provisional_years_between
from mediation.core.identity import DocumentType
from mediation.core.pdf import render_pdf

ARCHIVAL = "pdf/a-3b"  # agreements are kept for years: archival PDF with embedded fonts


def verify_url() -> str:
    """The public verification page's address with ``{code}`` in it, for the QR code:
    PUBLIC_BASE_URL (required in production), else the address this request came to."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.url_root
    return base.rstrip("/") + "/v/{code}"


def party_lines(party: Party) -> str:
    """A party's block as the law lists it (PML 29): who they are and how to reach them."""
    if party.kind is PartyKind.ORGANISATION:
        parts = [party.name, f"住所：{party.address or ''}"]
        if party.uscc:
            parts.append(f"统一社会信用代码：{party.uscc}")
        parts.append(f"法定代表人：{party.legal_representative or ''}，"
                     f"职务：{party.legal_representative_title or ''}")
        if party.phone:
            parts.append(f"联系电话：{party.phone}")
    else:
        parts = [party.name]
        if party.gender:
            parts.append(str(party.gender.title))
        if party.is_foreign:  # ethnicity (民族) is for Chinese citizens only
            parts.append(party.nationality if party.is_stateless
                         else f"{party.nationality}国籍")
        else:
            if party.ethnicity:
                parts.append(party.ethnicity if party.ethnicity.endswith("族")
                             else f"{party.ethnicity}族")
            if party.home_region:
                parts.append(str(party.home_region.title))
        if party.birth_date:
            parts.append(f"{rules.chinese_date(party.birth_date)}出生")
        if party.occupation:
            parts.append(f"职业：{party.occupation}")
        parts.append(f"住址：{party.address or ''}")
        if party.phone:
            parts.append(f"联系电话：{party.phone}")
        if party.id_number_masked:
            issuer = f"（{party.id_issuing_country}签发）" if party.id_issuing_country else ""
            parts.append(f"{_document_name(party.id_type)}号码{issuer}："
                         f"{party.id_number_masked}")
    text = "，".join(parts) + "。"
    if party.agent_name:
        text += f"委托代理人：{party.agent_name}" + (
            f"，联系电话：{party.agent_phone}" if party.agent_phone else "") + "。"
    return text


def _document_name(id_type: str | None) -> str:
    try:
        return str(DocumentType(id_type or DocumentType.RESIDENT_ID).title)
    except ValueError:
        return id_type or ""


def term_details(term) -> str:
    """Obligors (jointly or by shares), obligees, amount (also in capitals), method, place,
    deadline or schedule."""
    parts = []
    links = term.obligor_links
    if links:
        if term.liability is Liability.SEVERAL:
            who = "、".join(f"{link.party.name}（承担人民币{link.share_yuan}元）"
                           for link in links) + "（按份责任）"
        else:
            who = "、".join(link.party.name for link in links)
            if len(links) > 1 and term.liability is Liability.JOINT:
                who += "（连带责任）"
        parts.append(f"义务人：{who}")
    if term.obligees:
        parts.append(f"权利人：{'、'.join(party.name for party in term.obligees)}")
    if term.amount_fen:
        parts.append(f"金额：人民币{term.amount_yuan}元（大写：{term.amount_capital}）")
    if term.method:
        parts.append(f"履行方式：{term.method}")
    if term.place:
        parts.append(f"履行地点：{term.place}")
    if term.instalments:
        schedule = "；".join(
            f"第{rules.chinese_ordinal(i)}期于{rules.chinese_date(part.due_on)}前支付人民币"
            f"{part.amount_yuan}元" for i, part in enumerate(term.instalments, start=1))
        parts.append(f"分期履行：{schedule}")
    elif term.on_the_spot:
        parts.append("履行期限：本协议签订时当场履行")
    elif term.due_on:
        parts.append(f"履行期限：{rules.chinese_date(term.due_on)}前")
    return "；".join(parts) + "。" if parts else ""


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=0)


def _role(party: Party, position: int) -> str:
    return f"当事人{'甲乙丙丁戊己庚辛壬癸'[position] if position < 10 else position + 1}" \
           f"（{party.role.title}）"


def signing_date(agreement):
    """The date under the seal: the day the agreement was signed and sealed, from which it
    is in force (PML 29); None until then, to be written in by hand on the paper."""
    return agreement.effective_on


def agreement_pdf(agreement, *, verify_url: str | None = None, draft: bool = False) -> bytes:
    """The agreement in the standard layout; a draft carries a watermark and no number."""
    with force_locale("zh"):
        parties = [(_role(e.party, i), e.party, party_lines(e.party), e.responsibility)
                   for i, e in enumerate(agreement.parties)]
        organisations = {e.party_id for e in agreement.parties
                         if e.party.kind is PartyKind.ORGANISATION}
        return render_pdf(
            "agreement.html",
            title=f"人民调解协议书 {agreement.number or '（草稿）'}",
            author=agreement.committee.name,
            keywords=f"{agreement.case.number} {agreement.number or ''}".strip(),
            subject=f"案件编号 {agreement.case.number}",
            pdf_variant=None if draft else ARCHIVAL,
            agreement=agreement, case=agreement.case, parties=parties,
            terms=[(rules.chinese_ordinal(i), t, term_details(t))
                   for i, t in enumerate(agreement.terms, start=1)],
            copies=rules.chinese_ordinal(agreement.copies), draft=draft,
            # "双方" is two: with more parties every one of them is meant.
            sides="双方" if len(parties) == 2 else "各方", organisations=organisations,
            dated=rules.chinese_date(signing_date(agreement)),
            verify_url=verify_url, qr=qr_data_uri(verify_url) if verify_url else None)


def materials(agreement) -> list[str]:
    """What goes with the application (CPL-Interp 354; SPC-2011 art. 3)."""
    items = ["司法确认申请书", f"人民调解协议书（编号：{agreement.number}）",
             f"{agreement.committee.name}主持调解的证明（调解组织登记证明、调解记录）"]
    for entry in agreement.parties:
        party = entry.party
        if party.kind is PartyKind.ORGANISATION:
            items.append(f"{party.name}：营业执照或登记证书复印件、法定代表人身份证明书，"
                         f"住所、送达地址及联系电话")
        else:
            items.append(f"{party.name}：身份证明复印件，住所、送达地址及联系电话")
        if party.agent_name:
            items.append(f"{party.name}的委托代理人{party.agent_name}：授权委托书"
                         f"（由委托人签名或盖章）及代理人身份证明")
    # The address each party gives for service: a person's address on record, an
    # organisation's registered address (its 住所); the party confirms or corrects it.
    addresses = "；".join(f"{e.party.name}：{e.party.address or '（待当事人填写）'}"
                         for e in agreement.parties)
    items.append(f"送达地址确认书（{addresses}）")
    items.append("与调解协议相关的财产权利证明（涉及财产权利的）")
    return items


class _WithFullNumber:
    """A party as the application shows it: the full ID number where the agreement masks it
    (a court must identify the applicants); everything else read from the party."""

    def __init__(self, party: Party, id_number: str):
        self._party, self.id_number_masked = party, id_number

    def __getattr__(self, name):
        return getattr(self._party, name)


# A term's own closing punctuation, dropped where the application joins the terms with "；"
# and ends them with "。".
_TERM_END = "。；;，,.、　 \n"


def application_pdf(agreement, *, court_name: str,
                    id_numbers: dict[int, str] | None = None) -> bytes:
    """The parties' joint application (司法确认申请书), prefilled, for them to sign.

    ``id_numbers``: the full ID numbers by party id, revealed (and audited) by the caller.
    """
    id_numbers = id_numbers or {}
    with force_locale("zh"):
        deadline = rules.confirmation_deadline(agreement.effective_on) \
            if agreement.effective_on else None
        parties = [e.party for e in agreement.parties]
        return render_pdf(
            "confirmation_application.html",
            title=f"司法确认申请书 {agreement.number}", author=agreement.committee.name,
            keywords=f"{agreement.case.number} {agreement.number}",
            subject=f"案件编号 {agreement.case.number}",
            agreement=agreement, case=agreement.case, court_name=court_name,
            cause=rules.cause_of_action(agreement.case.category),
            parties=[(party, party_lines(_WithFullNumber(party, id_numbers[party.id])
                                         if party.id in id_numbers else party))
                     for party in parties],
            terms=[(rules.chinese_ordinal(i), t.content.strip().rstrip(_TERM_END))
                   for i, t in enumerate(agreement.terms, start=1)],
            # One date for the agreement, as under its seal: the day it was signed, sealed
            # and so reached and in force (PML 29), never the day it was printed (issued).
            signed=rules.chinese_date(signing_date(agreement)),
            deadline=rules.chinese_date(deadline), materials=materials(agreement),
            provisional=provisional_years_between(agreement.effective_on, deadline)
            if deadline else [])
