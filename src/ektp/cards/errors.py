"""Domain errors of the cards app; each message names the rule in Bahasa Indonesia."""

from ektp.core.errors import DomainError


class CardsError(DomainError, ValueError):
    """A cards rule refuses the action."""

    rule = "cards"


class NoBlankInStock(CardsError):
    """No blank is in stock where it is needed."""

    rule = "no_blank_in_stock"
    status = 409  # the stock or the print is in a state that forbids it now


class BlankUnavailable(CardsError):
    """A named serial is not in stock at the place given."""


class NotPrintable(CardsError):
    """The resident or request is not ready for a card."""


class CardHeld(NotPrintable):
    """Under 17 and unmarried: the card is held until the 17th birthday."""


class PrinterUnavailable(CardsError):
    """No working card printer at the service point."""


class StockInvalid(CardsError):
    """A ledger movement breaks a stock rule."""


class PrintDeferred(CardsError):
    """Rationing under shortage defers this print."""

    rule = "print_deferred"
    status = 409  # the stock or the print is in a state that forbids it now

    def __init__(self, message: str, *, store_on_request: bool = False):
        super().__init__(message)
        self.store_on_request = store_on_request


class PrintInProgress(CardsError):
    """A card for this resident is being printed; its blank is reserved until it ends."""

    rule = "print_in_progress"
    status = 409  # the stock or the print is in a state that forbids it now


class PrintSettled(CardsError):
    """The print reservation was already confirmed, spoiled or released."""

    rule = "print_settled"
    status = 409  # the stock or the print is in a state that forbids it now
