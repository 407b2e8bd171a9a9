"""SMS: the GSM-7/UCS-2 encoding and segment rules, delivery reports (receipts) per part."""
