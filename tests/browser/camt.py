"""A minimal camt.053.001.08 bank statement for the browser journeys (the Landeskasse's account,
debits only), adapted from ``tests/finance/test_reconcile.py::camt``."""

from __future__ import annotations

from datetime import date
from typing import Any

OUR_IBAN = "DE02120300000000202051"  # the Landeskasse's account the statement is about
UNKNOWN_IBAN = "DE75512108001245126199"  # a counterparty no order pays to
STATEMENT_ID = "KP-BROWSER-STMT-1"
OPENING_CENTS = 50_000_000


def camt053(
    lines: list[dict[str, Any]],
    *,
    booked: date,
    stmt_id: str = STATEMENT_ID,
    seq: str = "1",
    opening_cents: int = OPENING_CENTS,
) -> bytes:
    """A minimal camt.053.001.08 statement of debits (adapted from ``tests/finance/
    test_reconcile.py::camt``): ``lines`` are dicts with ``amount`` (cents) and optional ``e2e``,
    ``remittance`` and ``iban`` (the creditor's account); with opening and closing balance and
    the statement period, all on ``booked``."""
    entries = []
    for ln in lines:
        euros = f"{ln['amount'] // 100}.{ln['amount'] % 100:02d}"
        entries.append(f"""
    <Ntry><Amt Ccy="EUR">{euros}</Amt><CdtDbtInd>DBIT</CdtDbtInd>
      <Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{booked}</Dt></BookgDt><ValDt><Dt>{booked}</Dt></ValDt>
      <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
      <NtryDtls><TxDtls>
        <Refs><EndToEndId>{ln.get("e2e") or "NOTPROVIDED"}</EndToEndId></Refs>
        <Amt Ccy="EUR">{euros}</Amt><CdtDbtInd>DBIT</CdtDbtInd>
        <RltdPties><Cdtr><Pty><Nm>Gemeinde</Nm></Pty></Cdtr>
          <CdtrAcct><Id><IBAN>{ln.get("iban", UNKNOWN_IBAN)}</IBAN></Id></CdtrAcct></RltdPties>
        <RmtInf><Ustrd>{ln.get("remittance", "")}</Ustrd></RmtInf>
      </TxDtls></NtryDtls>
    </Ntry>""")
    closing = opening_cents - sum(ln["amount"] for ln in lines)

    def balance(code: str, cents: int) -> str:
        return (
            f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">'
            f"{cents // 100}.{cents % 100:02d}</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
            f"<Dt><Dt>{booked}</Dt></Dt></Bal>"
        )

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>MSG-{stmt_id}</MsgId><CreDtTm>{booked}T18:00:00+01:00</CreDtTm></GrpHdr>
  <Stmt><Id>{stmt_id}</Id><ElctrncSeqNb>{seq}</ElctrncSeqNb><CreDtTm>{booked}T18:00:00+01:00</CreDtTm>
   <FrToDt><FrDtTm>{booked}T00:00:00+01:00</FrDtTm><ToDtTm>{booked}T23:59:59+01:00</ToDtTm></FrToDt>
   <Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>
   {balance("OPBD", opening_cents)}{balance("CLBD", closing)}
   {"".join(entries)}
  </Stmt>
 </BkToCstmrStmt>
</Document>""".encode()
