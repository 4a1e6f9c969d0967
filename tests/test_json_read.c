/* The binary's own strict JSON reader (json_read.h): the values of a document that uses every
 * part of the grammar, read back against the values written in it; the output of claug's JSON
 * writer read back; and each kind of malformed text refused with its line and column. */
/* ctest: labels=host timeout=60 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/util/json.h"
#include "claug/util/json_read.h"

static json_value *parse(const char *text, char *err, size_t errlen) {
    return json_parse(text, strlen(text), err, errlen);
}

static void test_values(void) {
    const char *text = " {\"n\": [0, -0.5e3, 12.25, 1E-2, 123456789012],\n"
                       "  \"s\": \"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00 caf\xc3\xa9\",\n"
                       "  \"t\": true, \"f\": false, \"z\": null, \"e\": {}, \"a\": [[]]} \n";
    char err[256] = "";
    json_value *v = parse(text, err, sizeof err);
    CHECK(v && v->type == JSON_OBJECT && v->count == 7, "the document did not parse: %s", err);
    if (!v) return;
    const json_value *n = json_member(v, "n");
    const double want[] = {0, -500, 12.25, 0.01, 123456789012.0};
    CHECK(n && n->type == JSON_ARRAY && n->count == 5, "n is not an array of 5");
    for (int i = 0; n && i < n->count && i < 5; i++)
        CHECK(n->items[i].type == JSON_NUMBER && n->items[i].number == want[i], "n[%d] = %.17g, want %.17g", i,
              n->items[i].number, want[i]);
    const json_value *s = json_member(v, "s");
    const char *decoded = "a\"b\\c/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 caf\xc3\xa9";
    CHECK(s && s->type == JSON_STRING && strcmp(s->string, decoded) == 0, "s decoded wrong: '%s'", s ? s->string : "");
    CHECK(json_member(v, "t")->type == JSON_BOOL && json_member(v, "t")->boolean, "t is not true");
    CHECK(json_member(v, "f")->type == JSON_BOOL && !json_member(v, "f")->boolean, "f is not false");
    CHECK(json_member(v, "z")->type == JSON_NULL, "z is not null");
    CHECK(json_member(v, "e")->type == JSON_OBJECT && json_member(v, "e")->count == 0, "e is not {}");
    const json_value *a = json_member(v, "a");
    CHECK(a->type == JSON_ARRAY && a->count == 1 && a->items[0].type == JSON_ARRAY && a->items[0].count == 0,
          "a is not [[]]");
    CHECK(json_member(v, "missing") == NULL && json_member(n, "n") == NULL, "json_member found what is not there");
    json_value_free(v);
}

/* What claug's writer writes, the reader reads: strings with escapes, numbers exactly. */
static void test_round_trip(void) {
    strbuf sb = {0};
    json_writer w;
    json_init(&w, &sb);
    json_object_begin(&w);
    json_string(json_key(&w, "name"), "tab\there \"q\" \x01 \xff");
    json_number(json_key(&w, "x"), 0.1);
    json_number(json_key(&w, "y"), 6.02214076e23);
    json_number(json_key(&w, "nan"), NAN);
    json_array_begin(json_key(&w, "list"));
    json_int(&w, -7);
    json_array_end(&w);
    json_object_end(&w);
    char *text = sb_take(&sb), err[256] = "";
    json_value *v = parse(text, err, sizeof err);
    CHECK(v != NULL, "the writer's output did not parse: %s\n%s", err, text);
    if (v) {
        CHECK(strcmp(json_member(v, "name")->string, "tab\there \"q\" \x01 \xef\xbf\xbd") == 0, "name: '%s'",
              json_member(v, "name")->string);
        CHECK(json_member(v, "x")->number == 0.1 && json_member(v, "y")->number == 6.02214076e23,
              "numbers did not come back exactly");
        CHECK(json_member(v, "nan")->type == JSON_NULL, "NaN was not written as null");
        CHECK(json_member(v, "list")->items[0].number == -7, "list[0] is not -7");
    }
    json_value_free(v);
    free(text);
}

static void refuse(const char *text, size_t len, const char *phrase) {
    char err[256] = "";
    json_value *v = json_parse(text, len, err, sizeof err);
    CHECK(v == NULL && strstr(err, phrase) && strstr(err, "line ") && strstr(err, "column "),
          "'%.40s': accepted or wrong message (want '%s'): %s", text, phrase, err);
    json_value_free(v);
}

static void test_refused(void) {
    const struct {
        const char *text, *phrase;
    } cases[] = {
        {"", "unexpected end"},
        {"{\"a\": 1,}", "expected a key"},
        {"[1, 2,]", "unexpected character"},
        {"[1 2]", "expected ',' or ']'"},
        {"{\"a\" 1}", "expected ':'"},
        {"{\"a\": 1, \"a\": 2}", "duplicate key"},
        {"[NaN]", "unexpected character"},
        {"[Infinity]", "unexpected character"},
        {"[01]", "expected ',' or ']'"},
        {"[+1]", "unexpected character"},
        {"[1.]", "after the decimal point"},
        {"[1e]", "in the exponent"},
        {"[.5]", "unexpected character"},
        {"[0x10]", "expected ',' or ']'"},
        {"[1e999]", "out of range"},
        {"[\"a\tb\"]", "control character"},
        {"[\"abc", "unterminated string"},
        {"[\"\\x\"]", "unknown escape"},
        {"[\"\\u12\"]", "four hex digits"},
        {"[\"\\u0000\"]", "\\u0000"},
        {"[\"\\ud83d\"]", "without its low half"},
        {"[\"\\ude00\"]", "lone low surrogate"},
        {"[\"\xc3\"]", "malformed UTF-8"},
        {"[\"\xed\xa0\x80\"]", "malformed UTF-8"},
        {"{} {}", "text after the end"},
        {"[tru]", "unexpected character"},
        {"// comment\n{}", "unexpected character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refuse(cases[i].text, strlen(cases[i].text), cases[i].phrase);
    refuse("{\"a\": 1}\0x", 10, "NUL byte");
    /* Nesting beyond the limit, which a recursive reader must refuse before the stack runs out. */
    enum { DEEP = 100000 };
    char *deep = xmalloc(DEEP + 1);
    memset(deep, '[', DEEP);
    deep[DEEP] = 0;
    refuse(deep, DEEP, "nested more than");
    free(deep);
    /* The position: line 3, column 5. */
    char err[256] = "";
    json_value *v = parse("{\n  \"a\":\n    x}", err, sizeof err);
    CHECK(!v && strncmp(err, "line 3, column 5:", 17) == 0, "position of the error: %s", err);
}

int main(void) {
    test_values();
    test_round_trip();
    test_refused();
    return check_done("test_json_read");
}
