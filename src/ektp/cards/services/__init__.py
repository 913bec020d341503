"""Writes for cards: the blank ledger, printing, misprints, hand-over, requests.

One module per noun; this package re-exports their public names and the cards errors,
so callers keep writing `services.print_card(...)` and `services.CardsError`.
"""

from ektp.cards.errors import (
    BlankUnavailable,
    CardHeld,
    CardsError,
    NoBlankInStock,
    NotPrintable,
    PrintDeferred,
    PrinterUnavailable,
    PrintInProgress,
    PrintSettled,
    StockInvalid,
)
from ektp.cards.services.common import node_name, policy_for
from ektp.cards.services.demo import ensure_demo_stock
from ektp.cards.services.ledger import (
    MAX_RECEIPT,
    SERIAL_RE,
    lend_blanks,
    parse_serial_range,
    receive_blanks,
    receive_loan,
    record_stock_count,
    return_old_card,
    spoil_blank,
    transfer_blanks,
)
from ektp.cards.services.printing import (
    HOLDERS_OF_A_CARD,
    RECEIVER_RELATIONS,
    RECONCILE_OUTCOMES,
    RECONCILERS,
    card_face,
    confirm_print,
    create_reprint_request,
    hand_over,
    print_card,
    reconcile_print,
    report_misprint,
    working_printer,
)
from ektp.cards.services.requests import (
    draft_blank_request,
    outstanding_requested,
    submit_blank_request,
)

__all__ = [
    "HOLDERS_OF_A_CARD",
    "MAX_RECEIPT",
    "RECEIVER_RELATIONS",
    "RECONCILERS",
    "RECONCILE_OUTCOMES",
    "SERIAL_RE",
    "BlankUnavailable",
    "CardHeld",
    "CardsError",
    "NoBlankInStock",
    "NotPrintable",
    "PrintDeferred",
    "PrintInProgress",
    "PrintSettled",
    "PrinterUnavailable",
    "StockInvalid",
    "card_face",
    "confirm_print",
    "create_reprint_request",
    "draft_blank_request",
    "ensure_demo_stock",
    "hand_over",
    "lend_blanks",
    "node_name",
    "outstanding_requested",
    "parse_serial_range",
    "policy_for",
    "print_card",
    "receive_blanks",
    "receive_loan",
    "reconcile_print",
    "record_stock_count",
    "report_misprint",
    "return_old_card",
    "spoil_blank",
    "submit_blank_request",
    "transfer_blanks",
    "working_printer",
]
