import random

import pytest

from shared.reference import hc_number
from tests.factories import new_hc_number


@pytest.mark.parametrize("valid", ["9434765919", "943 476 5919", "943-476-5919", "4010232137"])
def test_a_number_with_the_right_check_digit_is_valid(valid: str) -> None:
    """A 10-digit number whose last digit is its modulus-11 check digit is valid, however spaced."""
    assert hc_number.is_valid(valid)


@pytest.mark.parametrize("invalid", ["9434765918", "943476591", "94347659190", "943476591X", "", "1234567890"])
def test_a_wrong_check_digit_or_length_is_invalid(invalid: str) -> None:
    """A wrong check digit, length or character makes the number invalid."""
    assert not hc_number.is_valid(invalid)


def test_a_number_whose_check_digit_would_be_ten_is_never_valid() -> None:
    """Nine digits whose weighted sum leaves remainder 1 have no valid check digit."""
    nine = next(
        digits
        for digits in (f"{n:09d}" for n in range(1000, 100000))
        if sum(int(d) * w for d, w in zip(digits, range(10, 1, -1))) % 11 == 1
    )
    assert not any(hc_number.is_valid(nine + str(check)) for check in range(10))


def test_generated_test_numbers_are_valid() -> None:
    """The factory used by the tests only produces valid numbers."""
    rng = random.Random(7)
    assert all(hc_number.is_valid(new_hc_number(rng)) for _ in range(200))


@pytest.mark.parametrize("script", ["٩٤٣٤٧٦٥٩١٩", "９４３４７６５９１９", "९४३४७६५९१९"])
def test_digits_of_other_scripts_are_not_a_valid_number(script: str) -> None:
    """Arabic-Indic, full-width and Devanagari digits of a valid number: refused, not read as it."""
    assert hc_number.is_valid("9434765919") and not hc_number.is_valid(script)
