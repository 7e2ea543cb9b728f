"""Health and Care numbers: 10 digits, the last a modulus-11 check digit (as NHS numbers)."""


def normalise(hc_number: str) -> str:
    return hc_number.replace(" ", "").replace("-", "")


def is_valid(hc_number: str) -> bool:
    digits = normalise(hc_number)
    # ASCII only: str.isdigit() and int() also take Arabic-Indic or full-width digits, which
    # would give the same person a second lookup hash and so a second pseudonymous id.
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(digits[9])
