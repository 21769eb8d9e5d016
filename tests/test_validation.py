import pytest

from user_profiles_sdk import ListOrder, ValidationError
from user_profiles_sdk import _validation as check


@pytest.mark.parametrize(
    ("raw", "segment"),
    [
        ("uprof_011CZ", "uprof_011CZ"),
        ("a/b", "a%2Fb"),
        ("a?b#c", "a%3Fb%23c"),
        ("50%", "50%25"),
        ("~._-", "~._-"),
        ("é", "%C3%A9"),
        ("...", "..."),
    ],
)
def test_id_is_encoded_as_one_path_segment(raw, segment):
    assert check.user_profile_id(raw) == segment


@pytest.mark.parametrize(
    "raw", ["", ".", "..", "a b", "a\tb", "a\nb", "a\x00b", "\x7f"]
)
def test_id_that_is_empty_dots_or_holds_whitespace_is_refused(raw):
    with pytest.raises(ValidationError) as caught:
        check.user_profile_id(raw)

    assert caught.value.field == "user_profile_id"


def test_id_that_is_not_a_string_is_refused():
    with pytest.raises(ValidationError, match="user_profile_id: must be a string"):
        check.user_profile_id(42)


def test_external_id_of_255_characters_passes_and_256_is_refused():
    assert check.external_id("x" * 255) == "x" * 255

    with pytest.raises(ValidationError, match="external_id: must be at most 255"):
        check.external_id("x" * 256)


def test_external_id_limit_is_skipped_without_limits_but_type_is_not():
    assert check.external_id("x" * 300, limits=False) == "x" * 300

    with pytest.raises(ValidationError, match="external_id: must be a string"):
        check.external_id(7, limits=False)


def test_metadata_of_16_keys_passes_and_17_is_refused():
    sixteen = {f"k{i}": "v" for i in range(16)}

    assert check.metadata(sixteen, on_create=True) == sixteen
    with pytest.raises(ValidationError, match="at most 16 keys, not 17"):
        check.metadata({**sixteen, "k16": "v"}, on_create=True)


@pytest.mark.parametrize(
    ("meta", "rule"),
    [
        ({"": "v"}, "must be 1 to 64 characters, not 0"),
        ({"k" * 65: "v"}, "must be 1 to 64 characters, not 65"),
        ({"k": "v" * 513}, "must be at most 512 characters, not 513"),
        ({"k": ""}, "must not be empty on create"),
        ({"k": 1}, "must be a string, not int"),
        ({1: "v"}, "keys must be strings, not int"),
    ],
)
def test_metadata_rules_name_the_field_and_the_rule(meta, rule):
    with pytest.raises(ValidationError) as caught:
        check.metadata(meta, on_create=True)

    assert caught.value.field == "metadata"
    assert rule in caught.value.rule


def test_metadata_accepts_the_longest_key_and_value():
    meta = {"k" * 64: "v" * 512}

    assert check.metadata(meta, on_create=True) == meta


def test_metadata_that_is_not_a_mapping_is_refused():
    with pytest.raises(ValidationError, match="metadata: must be a mapping"):
        check.metadata([("k", "v")], on_create=True)


def test_metadata_limits_are_skipped_without_limits():
    big = {f"k{i}": "v" * 600 for i in range(20)}

    assert check.metadata(big, on_create=True, limits=False) == big


def test_metadata_is_copied_so_later_changes_do_not_leak_in():
    meta = {"k": "v"}

    copy = check.metadata(meta, on_create=True)
    meta["k"] = "changed"

    assert copy == {"k": "v"}


def test_patch_sends_removals_as_empty_values():
    patch = check.metadata_patch({"plan": "enterprise"}, ["legacy_flag"])

    assert patch == {"plan": "enterprise", "legacy_flag": ""}


def test_patch_allows_an_empty_value_in_metadata_as_a_removal():
    assert check.metadata_patch({"old": ""}, None) == {"old": ""}


def test_patch_is_none_when_nothing_is_given():
    assert check.metadata_patch(None, None) is None


def test_patch_refuses_a_key_both_set_and_removed():
    with pytest.raises(ValidationError) as caught:
        check.metadata_patch({"plan": "pro"}, ["plan"])

    assert caught.value.field == "remove_metadata"
    assert "'plan'" in caught.value.rule


def test_patch_refuses_a_single_string_as_the_keys_to_remove():
    with pytest.raises(ValidationError, match="remove_metadata: must be a collection"):
        check.metadata_patch(None, "legacy_flag")


def test_patch_counts_only_the_keys_it_sets_against_the_limit():
    removals = [f"old{i}" for i in range(20)]
    sets = {f"k{i}": "v" for i in range(16)}

    assert len(check.metadata_patch(sets, removals)) == 36
    with pytest.raises(ValidationError, match="at most 16 keys"):
        check.metadata_patch({**sets, "k16": "v"}, None)


@pytest.mark.parametrize("value", [1, 20, 100])
def test_limit_within_bounds_passes(value):
    assert check.limit(value) == value


@pytest.mark.parametrize("value", [0, 101, -1])
def test_limit_out_of_bounds_is_refused(value):
    with pytest.raises(ValidationError, match=f"limit: must be 1 to 100, not {value}"):
        check.limit(value)


@pytest.mark.parametrize("value", [True, 2.5, "10", None])
def test_limit_that_is_not_an_integer_is_refused(value):
    with pytest.raises(ValidationError, match="limit: must be an integer"):
        check.limit(value)


def test_order_takes_strings_and_the_enum():
    assert check.order("asc") == "asc"
    assert check.order(ListOrder.DESC) == "desc"

    with pytest.raises(ValidationError, match="order: must be 'asc' or 'desc'"):
        check.order("newest")


@pytest.mark.parametrize("value", ["", None, 5])
def test_cursor_must_be_a_non_empty_string(value):
    with pytest.raises(ValidationError, match="page: must be a cursor"):
        check.cursor(value)


def test_validation_error_is_a_value_error():
    with pytest.raises(ValueError):
        check.limit(0)
