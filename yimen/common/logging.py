"""A logging filter that masks ID numbers and mobile numbers in every record."""

import logging

from .masking import mask_text


class MaskPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is
            message = None
        if message is not None:
            masked = mask_text(message)
            if masked != message:
                record.msg, record.args = masked, None
        # A traceback repeats the exception's message (often the offending value); the
        # formatter reuses exc_text once set, so the masked text is what gets written.
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


_traceback_formatter = logging.Formatter()
