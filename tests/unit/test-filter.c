/*
 * test-filter.c - filter compilation and matching, table-driven: every
 * operator, nesting, arrays, type mismatches, missing values, the reasons
 * given for a non-match, compile errors with their pointers, the work
 * bounds and allocation failures.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "filter.h"
#include "json.h"
#include "tap.h"

/*
 * Filters on the body: "filter" is matched as {"body": <filter>} against
 * {"body": <body>, "headers": {...}}; "why" is the explanation of a
 * non-match (NULL: it must match).
 */
static const struct {
	const char	*filter;
	const char	*body;
	const char	*why;
} body_cases[] = {
	/* Exact values. */
	{ "{\"type\":\"created\"}", "{\"type\":\"created\",\"n\":1}", NULL },
	{ "{\"type\":\"created\"}", "{}", "/body/type: missing" },
	{ "{\"type\":\"created\"}", "{\"type\":\"updated\"}",
	    "/body/type: not equal" },
	{ "{\"type\":\"1\"}", "{\"type\":1}", "/body/type: not equal" },
	{ "{\"type\":1}", "{\"type\":\"1\"}", "/body/type: not equal" },
	{ "{\"n\":1}", "{\"n\":1.0}", NULL },
	{ "{\"n\":1.5}", "{\"n\":1.5}", NULL },
	{ "{\"n\":0}", "{\"n\":-0.0}", NULL },
	{ "{\"t\":true}", "{\"t\":true}", NULL },
	{ "{\"t\":true}", "{\"t\":false}", "/body/t: not equal" },
	{ "{\"t\":true}", "{\"t\":1}", "/body/t: not equal" },
	{ "{\"z\":null}", "{\"z\":null}", NULL },
	{ "{\"z\":null}", "{}", "/body/z: missing" },
	{ "{\"z\":false}", "{\"z\":null}", "/body/z: not equal" },
	{ "{\"s\":\"\"}", "{\"s\":\"\"}", NULL },
	{ "{\"s\":\"a\\u0000b\"}", "{\"s\":\"a\\u0000b\"}", NULL },
	{ "{\"s\":\"a\\u0000b\"}", "{\"s\":\"a\\u0000c\"}",
	    "/body/s: not equal" },
	{ "{\"Type\":\"created\"}", "{\"type\":\"created\"}",
	    "/body/Type: missing" },
	{ "{\"count\":1,\"type\":\"created\"}", "{\"count\":1}",
	    "/body/type: missing" },
	{ "{}", "{\"a\":1}", NULL },
	{ "{}", "{}", NULL },
	/* Nested objects: the filter's members must be there. */
	{ "{\"product\":{\"inventory\":0}}",
	    "{\"product\":{\"title\":\"A\",\"inventory\":0}}", NULL },
	{ "{\"product\":{\"inventory\":0}}",
	    "{\"product\":{\"inventory\":1}}",
	    "/body/product/inventory: not equal" },
	{ "{\"type\":{\"something\":\"created\"}}", "{\"type\":\"created\"}",
	    "/body/type: wrong type (a string)" },
	{ "{\"type\":1}", "{\"type\":{\"something\":1}}",
	    "/body/type: not equal" },
	{ "{\"a\":{}}", "{\"a\":{\"b\":1}}", NULL },
	{ "{\"a\":{}}", "{\"a\":1}", "/body/a: wrong type (an integer)" },
	{ "{\"a\":{}}", "{}", "/body/a: missing" },
	{ "{\"a\":{\"b\":1}}", "{\"a\":null}", "/body/a: wrong type (null)" },
	/* Arrays in the event contain the filter's value. */
	{ "{\"tags\":\"gift\"}", "{\"tags\":[\"gift\",\"x\"]}", NULL },
	{ "{\"tags\":\"nope\"}", "{\"tags\":[\"gift\",\"x\"]}",
	    "/body/tags: no array element matches" },
	{ "{\"tags\":\"gift\"}", "{\"tags\":[]}",
	    "/body/tags: no array element matches" },
	{ "{\"tags\":3}", "{\"tags\":[[1,2],[3]]}", NULL },
	{ "{\"items\":{\"sku\":\"t\"}}", "{\"items\":[{\"sku\":\"u\"},"
	    "{\"sku\":\"t\"}]}", NULL },
	{ "{\"items\":{\"sku\":\"t\"}}", "{\"items\":[{\"sku\":\"u\"}]}",
	    "/body/items: no array element matches" },
	/* One element must match the whole object. */
	{ "{\"items\":{\"a\":1,\"b\":2}}",
	    "{\"items\":[{\"a\":1,\"b\":0},{\"a\":0,\"b\":2}]}",
	    "/body/items: no array element matches" },
	{ "{\"items\":{\"a\":1,\"b\":2}}",
	    "{\"items\":[{\"a\":1,\"b\":0},{\"a\":1,\"b\":2}]}", NULL },
	{ "{\"items\":{\"inventory\":{\"$lte\":10}}}",
	    "{\"items\":[{\"inventory\":12},{\"inventory\":9}]}", NULL },
	{ "{\"items\":{\"inventory\":{\"$lte\":10}}}",
	    "{\"items\":[{\"inventory\":12},{\"inventory\":11}]}",
	    "/body/items: no array element matches" },
	/* An array filter: the event's array contains all of it. */
	{ "{\"tags\":[\"a\",\"b\"]}", "{\"tags\":[\"b\",\"c\",\"a\"]}", NULL },
	{ "{\"tags\":[\"a\",\"z\"]}", "{\"tags\":[\"b\",\"c\",\"a\"]}",
	    "/body/tags/1: no array element matches" },
	{ "{\"tags\":[]}", "{\"tags\":[]}", NULL },
	{ "{\"tags\":[\"a\"]}", "{\"tags\":\"a\"}",
	    "/body/tags: wrong type (a string)" },
	{ "{\"n\":[{\"$gt\":2}]}", "{\"n\":[1,2,3]}", NULL },
	{ "{\"n\":[{\"$gt\":3}]}", "{\"n\":[1,2,3]}",
	    "/body/n/0: no array element matches" },
	{ "{\"items\":[{\"id\":1},{\"id\":2}]}",
	    "{\"items\":[{\"id\":2,\"x\":0},{\"id\":1}]}", NULL },
	/* $eq and $neq: exact, arrays and objects included. */
	{ "{\"n\":{\"$eq\":2}}", "{\"n\":2}", NULL },
	{ "{\"n\":{\"$eq\":2}}", "{\"n\":3}", "/body/n/$eq: not equal" },
	{ "{\"tags\":{\"$eq\":[\"a\",\"b\"]}}", "{\"tags\":[\"a\",\"b\"]}",
	    NULL },
	{ "{\"tags\":{\"$eq\":[\"a\",\"b\"]}}",
	    "{\"tags\":[\"a\",\"b\",\"c\"]}", "/body/tags/$eq: not equal" },
	{ "{\"tags\":{\"$eq\":[\"a\",\"b\"]}}", "{\"tags\":[\"b\",\"a\"]}",
	    "/body/tags/$eq: not equal" },
	{ "{\"n\":{\"$eq\":3}}", "{\"n\":[1,2,3]}",
	    "/body/n/$eq: not equal" },
	{ "{\"o\":{\"$eq\":{\"a\":1,\"b\":[true,null]}}}",
	    "{\"o\":{\"b\":[true,null],\"a\":1.0}}", NULL },
	{ "{\"o\":{\"$eq\":{\"a\":1}}}", "{\"o\":{\"a\":1,\"b\":2}}",
	    "/body/o/$eq: not equal" },
	{ "{\"o\":{\"$eq\":{\"a\":1,\"b\":2}}}", "{\"o\":{\"a\":1,\"c\":2}}",
	    "/body/o/$eq: not equal" },
	{ "{\"z\":{\"$eq\":null}}", "{\"z\":null}", NULL },
	{ "{\"z\":{\"$eq\":null}}", "{}", "/body/z/$eq: missing" },
	{ "{\"n\":{\"$neq\":2}}", "{\"n\":3}", NULL },
	{ "{\"n\":{\"$neq\":2}}", "{\"n\":2.0}", "/body/n/$neq: equal" },
	{ "{\"n\":{\"$neq\":2}}", "{\"n\":\"2\"}", NULL },
	{ "{\"n\":{\"$neq\":2}}", "{}", "/body/n/$neq: missing" },
	{ "{\"z\":{\"$neq\":null}}", "{\"z\":null}", "/body/z/$neq: equal" },
	/* Numbers compare exactly, integers beyond doubles included. */
	{ "{\"n\":9007199254740993}", "{\"n\":9007199254740992.0}",
	    "/body/n: not equal" },
	{ "{\"n\":{\"$gt\":9007199254740992.0}}",
	    "{\"n\":9007199254740993}", NULL },
	{ "{\"n\":{\"$lt\":9007199254740993}}",
	    "{\"n\":9007199254740992.0}", NULL },
	{ "{\"n\":{\"$gt\":9223372036854775807}}",
	    "{\"n\":9223372036854775808}", NULL },
	{ "{\"n\":{\"$lt\":9223372036854775808}}",
	    "{\"n\":9223372036854775807}", NULL },
	{ "{\"n\":18446744073709551615}", "{\"n\":18446744073709551615}",
	    NULL },
	{ "{\"n\":{\"$gt\":18446744073709551615}}", "{\"n\":1e20}", NULL },
	{ "{\"n\":{\"$gt\":-9223372036854775808}}", "{\"n\":-1e19}",
	    "/body/n/$gt: not greater" },
	{ "{\"n\":{\"$gte\":-9223372036854775808}}",
	    "{\"n\":-9223372036854775808.0}", NULL },
	{ "{\"n\":{\"$lt\":2}}", "{\"n\":1.999}", NULL },
	{ "{\"n\":{\"$gt\":2}}", "{\"n\":2.001}", NULL },
	{ "{\"n\":{\"$gt\":-2}}", "{\"n\":-2.5}",
	    "/body/n/$gt: not greater" },
	/* $gt $gte $lt $lte. */
	{ "{\"n\":{\"$gt\":1,\"$lt\":3}}", "{\"n\":2}", NULL },
	{ "{\"n\":{\"$gt\":1,\"$lt\":3}}", "{\"n\":4}",
	    "/body/n/$lt: not less" },
	{ "{\"n\":{\"$gt\":1,\"$lt\":3}}", "{\"n\":1}",
	    "/body/n/$gt: not greater" },
	{ "{\"n\":{\"$gte\":2}}", "{\"n\":2}", NULL },
	{ "{\"n\":{\"$gte\":2}}", "{\"n\":1}", "/body/n/$gte: less" },
	{ "{\"n\":{\"$lte\":2}}", "{\"n\":2}", NULL },
	{ "{\"n\":{\"$lte\":2}}", "{\"n\":2.5}", "/body/n/$lte: greater" },
	{ "{\"n\":{\"$lt\":1}}", "{\"n\":0}", NULL },
	{ "{\"s\":{\"$gt\":\"b\"}}", "{\"s\":\"c\"}", NULL },
	{ "{\"s\":{\"$gt\":\"b\"}}", "{\"s\":\"a\"}",
	    "/body/s/$gt: not greater" },
	{ "{\"s\":{\"$gt\":\"b\"}}", "{\"s\":\"ba\"}", NULL },
	{ "{\"s\":{\"$lt\":\"b\"}}", "{\"s\":\"\"}", NULL },
	{ "{\"s\":{\"$gte\":\"2026-01-01\"}}",
	    "{\"s\":\"2026-03-04T00:00:00Z\"}", NULL },
	{ "{\"s\":{\"$lt\":\"\\u00e9\"}}", "{\"s\":\"z\"}", NULL },
	/* Type mismatches never match. */
	{ "{\"n\":{\"$gt\":1}}", "{\"n\":\"5\"}",
	    "/body/n/$gt: wrong type (a string)" },
	{ "{\"s\":{\"$gt\":\"1\"}}", "{\"s\":5}",
	    "/body/s/$gt: wrong type (an integer)" },
	{ "{\"n\":{\"$lt\":1}}", "{\"n\":[0]}",
	    "/body/n/$lt: wrong type (an array)" },
	{ "{\"n\":{\"$lte\":1}}", "{\"n\":null}",
	    "/body/n/$lte: wrong type (null)" },
	{ "{\"n\":{\"$gte\":1}}", "{\"n\":true}",
	    "/body/n/$gte: wrong type (a boolean)" },
	{ "{\"n\":{\"$gt\":1}}", "{}", "/body/n/$gt: missing" },
	/* $in and $nin. */
	{ "{\"id\":{\"$in\":[123,456]}}", "{\"id\":123}", NULL },
	{ "{\"id\":{\"$in\":[123,456]}}", "{\"id\":789}",
	    "/body/id/$in: not in the list" },
	{ "{\"id\":{\"$in\":[123,456]}}", "{\"id\":\"123\"}",
	    "/body/id/$in: not in the list" },
	{ "{\"id\":{\"$in\":[null]}}", "{\"id\":null}", NULL },
	{ "{\"id\":{\"$in\":[]}}", "{\"id\":1}",
	    "/body/id/$in: not in the list" },
	{ "{\"tags\":{\"$in\":[\"a\",\"b\"]}}", "{\"tags\":[\"x\",\"b\"]}",
	    NULL },
	{ "{\"tags\":{\"$in\":[\"a\",\"b\"]}}", "{\"tags\":[\"x\",\"y\"]}",
	    "/body/tags/$in: not in the list" },
	{ "{\"o\":{\"$in\":[1]}}", "{\"o\":{\"a\":1}}",
	    "/body/o/$in: wrong type (an object)" },
	{ "{\"s\":{\"$in\":\"text\"}}", "{\"s\":\"some-text\"}", NULL },
	{ "{\"s\":{\"$in\":\"nope\"}}", "{\"s\":\"some-text\"}",
	    "/body/s/$in: does not contain it" },
	{ "{\"s\":{\"$in\":\"\"}}", "{\"s\":\"\"}", NULL },
	{ "{\"s\":{\"$in\":\"b\\u0000c\"}}", "{\"s\":\"ab\\u0000cd\"}", NULL },
	{ "{\"tags\":{\"$in\":\"test\"}}", "{\"tags\":[\"test\",\"x\"]}", NULL },
	{ "{\"tags\":{\"$in\":\"tes\"}}", "{\"tags\":[\"test\",\"x\"]}",
	    "/body/tags/$in: does not contain it" },
	{ "{\"n\":{\"$in\":\"1\"}}", "{\"n\":1}",
	    "/body/n/$in: wrong type (an integer)" },
	{ "{\"n\":{\"$in\":[1]}}", "{}", "/body/n/$in: missing" },
	{ "{\"id\":{\"$nin\":[123,456]}}", "{\"id\":789}", NULL },
	{ "{\"id\":{\"$nin\":[123,456]}}", "{\"id\":456}",
	    "/body/id/$nin: in the list" },
	{ "{\"s\":{\"$nin\":\"some\"}}", "{\"s\":\"some-text\"}",
	    "/body/s/$nin: contains it" },
	{ "{\"s\":{\"$nin\":\"none\"}}", "{\"s\":\"some-text\"}", NULL },
	{ "{\"tags\":{\"$nin\":\"test\"}}", "{\"tags\":[\"test\",\"x\"]}",
	    "/body/tags/$nin: contains it" },
	{ "{\"tags\":{\"$nin\":[\"a\"]}}", "{\"tags\":[\"b\",\"c\"]}", NULL },
	{ "{\"n\":{\"$nin\":\"1\"}}", "{\"n\":1}",
	    "/body/n/$nin: wrong type (an integer)" },
	{ "{\"n\":{\"$nin\":[1]}}", "{}", "/body/n/$nin: missing" },
	/* $startsWith and $endsWith. */
	{ "{\"s\":{\"$startsWith\":\"some\"}}", "{\"s\":\"some-text\"}", NULL },
	{ "{\"s\":{\"$startsWith\":\"text\"}}", "{\"s\":\"some-text\"}",
	    "/body/s/$startsWith: does not start with it" },
	{ "{\"s\":{\"$startsWith\":\"\"}}", "{\"s\":\"\"}", NULL },
	{ "{\"s\":{\"$startsWith\":\"some-text!\"}}", "{\"s\":\"some-text\"}",
	    "/body/s/$startsWith: does not start with it" },
	{ "{\"s\":{\"$startsWith\":[\"x\",\"so\"]}}", "{\"s\":\"some\"}", NULL },
	{ "{\"s\":{\"$startsWith\":[\"x\",\"y\"]}}", "{\"s\":\"some\"}",
	    "/body/s/$startsWith: does not start with it" },
	{ "{\"s\":{\"$endsWith\":\"text\"}}", "{\"s\":\"some-text\"}", NULL },
	{ "{\"s\":{\"$endsWith\":\"some\"}}", "{\"s\":\"some-text\"}",
	    "/body/s/$endsWith: does not end with it" },
	{ "{\"s\":{\"$endsWith\":[\"x\",\"xt\"]}}", "{\"s\":\"text\"}", NULL },
	{ "{\"s\":{\"$endsWith\":\"longer-than-text\"}}", "{\"s\":\"text\"}",
	    "/body/s/$endsWith: does not end with it" },
	{ "{\"s\":{\"$startsWith\":\"t\"}}", "{\"s\":{\"more\":true}}",
	    "/body/s/$startsWith: wrong type (an object)" },
	{ "{\"s\":{\"$endsWith\":\"1\"}}", "{\"s\":1}",
	    "/body/s/$endsWith: wrong type (an integer)" },
	{ "{\"s\":{\"$startsWith\":\"t\"}}", "{\"s\":[\"t\"]}",
	    "/body/s/$startsWith: wrong type (an array)" },
	/* $exist. */
	{ "{\"a\":{\"$exist\":true}}", "{\"a\":\"x\"}", NULL },
	{ "{\"a\":{\"$exist\":true}}", "{\"a\":null}", NULL },
	{ "{\"a\":{\"$exist\":true}}", "{\"a\":{\"b\":[]}}", NULL },
	{ "{\"a\":{\"$exist\":true}}", "{\"b\":1}", "/body/a/$exist: missing" },
	{ "{\"a\":{\"$exist\":false}}", "{\"b\":1}", NULL },
	{ "{\"a\":{\"$exist\":false}}", "{\"a\":null}",
	    "/body/a/$exist: exists" },
	{ "{\"a\":{\"b\":{\"$exist\":false}}}", "{\"a\":{\"c\":1}}", NULL },
	{ "{\"a\":{\"b\":{\"$exist\":false}}}", "{}", NULL },
	{ "{\"a\":{\"b\":{\"$exist\":true}}}", "{}",
	    "/body/a/b/$exist: missing" },
	{ "{\"a\":{\"b\":{\"$exist\":false}}}", "{\"a\":\"s\"}",
	    "/body/a: wrong type (a string)" },
	{ "{\"a\":{\"$exist\":true,\"$in\":\"el\"}}", "{\"a\":\"else\"}", NULL },
	{ "{\"a\":{\"$exist\":true,\"$in\":\"no\"}}", "{\"a\":\"else\"}",
	    "/body/a/$in: does not contain it" },
	/* $or, $and, $not; operators and members together. */
	{ "{\"n\":{\"$or\":[1,5]}}", "{\"n\":5}", NULL },
	{ "{\"n\":{\"$or\":[1,5]}}", "{\"n\":2}",
	    "/body/n/$or: no alternative matches" },
	{ "{\"$or\":[{\"a\":1},{\"b\":2}]}", "{\"b\":2}", NULL },
	{ "{\"$or\":[{\"a\":1},{\"b\":2}]}", "{\"a\":2,\"b\":1}",
	    "/body/$or: no alternative matches" },
	{ "{\"$and\":[{\"a\":1},{\"b\":2}]}", "{\"a\":1,\"b\":2}", NULL },
	{ "{\"$and\":[{\"a\":1},{\"b\":2}]}", "{\"a\":1,\"b\":3}",
	    "/body/$and/1/b: not equal" },
	{ "{\"n\":{\"$and\":[1,2]}}", "{\"n\":1}", "/body/n/$and/1: not equal" },
	{ "{\"n\":{\"$and\":[1,2]}}", "{\"n\":[1,2]}", NULL },
	{ "{\"t\":{\"$and\":[{\"s\":{\"$neq\":null}},{\"s\":{\"$in\":\"e\"}}]}}",
	    "{\"t\":{\"s\":null}}", "/body/t/$and/0/s/$neq: equal" },
	{ "{\"$not\":{\"a\":1}}", "{\"a\":2}", NULL },
	{ "{\"$not\":{\"a\":1}}", "{\"a\":1}",
	    "/body/$not: the negated filter matches" },
	{ "{\"$not\":{\"a\":1}}", "{}", NULL },
	{ "{\"a\":{\"$not\":{\"$gt\":5}}}", "{\"a\":3}", NULL },
	{ "{\"a\":{\"$not\":{\"$gt\":5}}}", "{\"a\":\"x\"}", NULL },
	{ "{\"a\":{\"$not\":{\"$gt\":5}}}", "{\"a\":6}",
	    "/body/a/$not: the negated filter matches" },
	{ "{\"a\":{\"$not\":{\"$not\":1}}}", "{\"a\":1}", NULL },
	{ "{\"a\":{\"$not\":[\"x\"]}}", "{\"a\":[\"y\"]}", NULL },
	{ "{\"a\":{\"$not\":\"x\"}}", "{\"a\":[\"x\"]}",
	    "/body/a/$not: the negated filter matches" },
	{ "{\"t\":{\"a\":{\"$exist\":true,\"$or\":[\"e\",\"n\"]},"
	    "\"$and\":[{\"a\":\"e\"},{\"b\":\"n\"}]}}",
	    "{\"t\":{\"a\":\"e\",\"b\":\"n\"}}", NULL },
	{ "{\"t\":{\"a\":{\"$exist\":true,\"$or\":[\"e\",\"n\"]},"
	    "\"$and\":[{\"a\":\"e\"},{\"b\":\"n\"}]}}",
	    "{\"t\":{\"a\":\"e\",\"b\":\"m\"}}", "/body/t/$and/1/b: not equal" },
	{ "{\"t\":{\"$not\":{\"a\":\"x\"},\"b\":1}}", "{\"t\":{\"a\":\"y\","
	    "\"b\":1}}", NULL },
	{ "{\"t\":{\"$not\":{\"a\":\"x\"},\"b\":1}}", "{\"t\":{\"a\":\"y\","
	    "\"b\":2}}", "/body/t/b: not equal" },
	{ "{\"$or\":[{\"a\":{\"$exist\":false}},{\"a\":{\"$gt\":0}}]}",
	    "{\"a\":-1}", "/body/$or: no alternative matches" },
	{ "{\"$or\":[{\"a\":{\"$exist\":false}},{\"a\":{\"$gt\":0}}]}", "{}",
	    NULL },
	/* Pointers escape "/" and "~" (RFC 6901). */
	{ "{\"a/b~c\":1}", "{\"a/b~c\":2}", "/body/a~1b~0c: not equal" },
	{ "{\"a/b~c\":1}", "{\"a/b~c\":1}", NULL },
	{ "{\"\":1}", "{\"\":1}", NULL },
	{ "{\"\":1}", "{\"\":2}", "/body/: not equal" },
	/* The whole body need not be an object. */
	{ "\"created\"", "\"created\"", NULL },
	{ "{\"$gte\":5}", "10", NULL },
	{ "{\"$gte\":5}", "4", "/body/$gte: less" },
	{ "1", "{\"a\":1}", "/body: not equal" },
	{ "{\"a\":1}", "[{\"a\":1}]", NULL },
	{ "3", "[1,2,3]", NULL },
	{ "{\"$eq\":3}", "[1,2,3]", "/body/$eq: not equal" },
	{ "{\"a\":1}", "null", "/body: wrong type (null)" },
};

/* Filters on the whole event, against one fixed event. */
static const char event_text[] =
    "{\"body\":{\"type\":\"order.created\",\"amount\":12.5},"
    "\"headers\":{\"x-event\":\"order\",\"x-token\":\"s3cret\","
    "\"content-type\":\"application/json\"},"
    "\"preprocess\":{\"tier\":\"gold\",\"score\":7}}";

static const struct {
	const char	*filter;
	const char	*why;
} event_cases[] = {
	{ "{}", NULL },
	{ "{\"body\":{\"type\":\"order.created\"},\"headers\":{\"x-event\":"
	    "\"order\"}}", NULL },
	{ "{\"headers\":{\"X-Event\":\"order\"}}", NULL },
	{ "{\"headers\":{\"X-Event\":\"Order\"}}",
	    "/headers/X-Event: not equal" },
	{ "{\"headers\":{\"$or\":[{\"X-Nope\":\"1\"},{\"X-EVENT\":{"
	    "\"$startsWith\":\"ord\"}}]}}", NULL },
	{ "{\"headers\":{\"x-missing\":{\"$exist\":false}}}", NULL },
	{ "{\"headers\":{\"x-token\":\"wrong\"}}",
	    "/headers/x-token: not equal" },
	{ "{\"preprocess\":{\"tier\":{\"$in\":[\"gold\",\"platinum\"]},"
	    "\"score\":{\"$gte\":5}}}", NULL },
	{ "{\"preprocess\":{\"score\":{\"$gt\":7}}}",
	    "/preprocess/score/$gt: not greater" },
	{ "{\"$or\":[{\"body\":{\"type\":\"x\"}},{\"preprocess\":{\"tier\":"
	    "\"gold\"}}]}", NULL },
	{ "{\"$and\":[{\"body\":{\"amount\":{\"$gt\":10}}},{\"headers\":{"
	    "\"content-type\":{\"$endsWith\":\"xml\"}}}]}",
	    "/$and/1/headers/content-type/$endsWith: does not end with it" },
	{ "{\"$not\":{\"body\":{\"type\":{\"$startsWith\":\"order.\"}}}}",
	    "/$not: the negated filter matches" },
	{ "{\"$or\":[{\"body\":{\"type\":\"x\"}},{\"body\":{\"type\":\"y\"}}]}",
	    "/$or: no alternative matches" },
};

/* Filters refused at compile time: the pointer and part of the message. */
static const struct {
	const char	*filter;
	const char	*ptr;
	const char	*err;
} bad_cases[] = {
	{ "[]", "", "must be an object (got array)" },
	{ "\"x\"", "", "must be an object (got string)" },
	{ "null", "", "must be an object (got null)" },
	{ "{\"bdy\":{}}", "/bdy", "unknown member" },
	{ "{\"$or\":[{\"bdy\":1}]}", "/$or/0/bdy", "unknown member" },
	{ "{\"$or\":[1]}", "/$or/0", "must be an object (got integer)" },
	{ "{\"body\":1,\"headers\":[\"x\"]}", "/headers",
	    "must be an object (got array)" },
	{ "{\"headers\":\"x\"}", "/headers", "must be an object" },
	{ "{\"$eq\":{}}", "/$eq", "only $or, $and and $not" },
	{ "{\"$exist\":true}", "/$exist", "only $or, $and and $not" },
	{ "{\"body\":{\"a\":{\"$foo\":1}}}", "/body/a/$foo",
	    "unknown operator \"$foo\"" },
	{ "{\"body\":{\"$EQ\":1}}", "/body/$EQ", "unknown operator" },
	{ "{\"body\":{\"a\":{\"$ref\":\"b\"}}}", "/body/a/$ref",
	    "$ref (field references) is not supported" },
	{ "{\"body\":{\"a\":{\"$in\":1}}}", "/body/a/$in",
	    "must be an array of values or a string" },
	{ "{\"body\":{\"a\":{\"$nin\":{}}}}", "/body/a/$nin",
	    "must be an array of values or a string" },
	{ "{\"body\":{\"a\":{\"$gt\":[1]}}}", "/body/a/$gt",
	    "must be a number or a string" },
	{ "{\"body\":{\"a\":{\"$lte\":null}}}", "/body/a/$lte",
	    "must be a number or a string" },
	{ "{\"body\":{\"a\":{\"$gte\":true}}}", "/body/a/$gte",
	    "must be a number or a string" },
	{ "{\"body\":{\"a\":{\"$lt\":{}}}}", "/body/a/$lt",
	    "must be a number or a string" },
	{ "{\"body\":{\"a\":{\"$startsWith\":1}}}", "/body/a/$startsWith",
	    "must be a string or a non-empty array of strings" },
	{ "{\"body\":{\"a\":{\"$endsWith\":[]}}}", "/body/a/$endsWith",
	    "must be a string or a non-empty array of strings" },
	{ "{\"body\":{\"a\":{\"$endsWith\":[\"x\",2]}}}", "/body/a/$endsWith/1",
	    "must be a string" },
	{ "{\"body\":{\"a\":{\"$exist\":1}}}", "/body/a/$exist",
	    "must be true or false" },
	{ "{\"body\":{\"$or\":[]}}", "/body/$or",
	    "must be a non-empty array of filters" },
	{ "{\"body\":{\"$and\":{\"a\":1}}}", "/body/$and",
	    "must be a non-empty array of filters" },
	{ "{\"body\":{\"$or\":[{\"a\":{\"$bad\":1}}]}}", "/body/$or/0/a/$bad",
	    "unknown operator" },
	{ "{\"body\":{\"$not\":{\"a\":{\"$in\":true}}}}", "/body/$not/a/$in",
	    "must be an array" },
	{ "{\"body\":{\"x/y\":{\"$gt\":[]}}}", "/body/x~1y/$gt",
	    "must be a number" },
	{ "{\"body\":[{\"a\":{\"$in\":0}}]}", "/body/0/a/$in",
	    "must be an array" },
};

static pt_json *
parse(const char *text)
{
	struct pt_json_error e;
	pt_json *v = NULL;

	if (pt_json_parse(text, strlen(text), PT_JSON_MAX_DEPTH, &v, &e) !=
	    PT_OK) {
		printf("# cannot parse %s: %s\n", text, e.message);
		exit(1);
	}
	return v;
}

/* Match "filter" against "input"; 1 when the outcome is "why" (or NULL). */
static int
check(const char *filter, pt_json *input, const char *why, const char *desc)
{
	struct pt_filter_why w;
	struct pt_filter *f = NULL;
	pt_json *doc = parse(filter);
	char ptr[200], err[200], text[300];
	int r, good;

	if (pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) !=
	    PT_OK) {
		ok(0, "%s: compiles", desc);
		diag("%s: %s", ptr, err);
		pt_json_put(doc);
		return 0;
	}
	pt_json_put(doc);
	r = pt_filter_match(f, input, &w);
	text[0] = '\0';
	if (!r)
		(void)pt_filter_why_text(&w, text, sizeof(text));
	good = why == NULL ? r == 1 : r == 0 && strcmp(text, why) == 0;
	ok(good, "%s", desc);
	if (!good)
		diag("got %s \"%s\", want %s \"%s\"", r ? "match" : "no match",
		    text, why ? "no match" : "match", why ? why : "");
	pt_filter_free(f);
	return good;
}

static void
test_body_cases(void)
{
	char filter[1024], event[1024], desc[1200];
	pt_json *input;
	size_t i;

	for (i = 0; i < nitems(body_cases); i++) {
		snprintf(filter, sizeof(filter), "{\"body\":%s}",
		    body_cases[i].filter);
		snprintf(event, sizeof(event), "{\"body\":%s,\"headers\":{}}",
		    body_cases[i].body);
		snprintf(desc, sizeof(desc), "%s against %s: %s",
		    body_cases[i].filter, body_cases[i].body,
		    body_cases[i].why ? body_cases[i].why : "matches");
		input = parse(event);
		check(filter, input, body_cases[i].why, desc);
		pt_json_put(input);
	}
}

static void
test_event_cases(void)
{
	char desc[600];
	pt_json *input = parse(event_text);
	size_t i;

	for (i = 0; i < nitems(event_cases); i++) {
		snprintf(desc, sizeof(desc), "event: %s: %s",
		    event_cases[i].filter,
		    event_cases[i].why ? event_cases[i].why : "matches");
		check(event_cases[i].filter, input, event_cases[i].why, desc);
	}
	pt_json_put(input);
}

static void
test_bad_cases(void)
{
	struct pt_filter *f;
	pt_json *doc;
	char ptr[200], err[300];
	size_t i;
	enum pt_err rc;

	for (i = 0; i < nitems(bad_cases); i++) {
		doc = parse(bad_cases[i].filter);
		f = (struct pt_filter *)&f;	/* must be reset */
		ptr[0] = err[0] = 'X';
		rc = pt_filter_compile(doc, &f, ptr, sizeof(ptr), err,
		    sizeof(err));
		ok(rc == PT_EINVAL && f == NULL &&
		    strcmp(ptr, bad_cases[i].ptr) == 0 &&
		    strstr(err, bad_cases[i].err) != NULL,
		    "refused %s: \"%s\" at \"%s\"", bad_cases[i].filter,
		    bad_cases[i].err, bad_cases[i].ptr);
		if (rc != PT_EINVAL || strcmp(ptr, bad_cases[i].ptr) != 0 ||
		    strstr(err, bad_cases[i].err) == NULL)
			diag("got %s \"%s\": %s", pt_strerror(rc), ptr, err);
		pt_filter_free(rc == PT_OK ? f : NULL);
		pt_json_put(doc);
	}
}

/* A text of "n" nested copies of "open" around "inner" and "close". */
static char *
nested(const char *open, const char *inner, const char *close, int n)
{
	size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
	char *s = malloc(n * (lo + lc) + li + 1), *p = s;
	int i;

	if (s == NULL)
		abort();
	for (i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, inner, li);
	p += li;
	for (i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

static void
test_bounds(void)
{
	struct pt_filter *f = NULL;
	struct pt_buf b = { 0 };
	pt_json *doc;
	char ptr[2048], err[300], *t;
	int i;

	/* Depth: the root is level 0, body level 1. */
	t = nested("{\"a\":", "1", "}", PT_FILTER_MAX_DEPTH - 1);
	pt_buf_printf(&b, "{\"body\":%s}", t);
	doc = parse(b.data);
	ok(pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) ==
	    PT_OK, "a filter %d levels deep compiles", PT_FILTER_MAX_DEPTH);
	pt_filter_free(f);
	f = NULL;
	pt_json_put(doc);
	free(t);
	pt_buf_reset(&b);
	t = nested("{\"a\":", "1", "}", PT_FILTER_MAX_DEPTH);
	pt_buf_printf(&b, "{\"body\":%s}", t);
	doc = parse(b.data);
	ok(pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) ==
	    PT_EINVAL && strstr(err, "nested more than") != NULL &&
	    strncmp(ptr, "/body/a/a/", 10) == 0,
	    "a filter %d levels deep is refused: %s: %s",
	    PT_FILTER_MAX_DEPTH + 1, ptr, err);
	pt_json_put(doc);
	free(t);

	/* Depth of literals counts too. */
	pt_buf_reset(&b);
	t = nested("[", "1", "]", PT_FILTER_MAX_DEPTH);
	pt_buf_printf(&b, "{\"body\":{\"a\":{\"$eq\":%s}}}", t);
	doc = parse(b.data);
	ok(pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) ==
	    PT_EINVAL && strcmp(ptr, "/body/a/$eq") == 0,
	    "a deep $eq literal is refused: %s: %s", ptr, err);
	pt_json_put(doc);
	free(t);

	/* Number of conditions and values. */
	pt_buf_reset(&b);
	pt_buf_adds(&b, "{\"body\":{\"a\":{\"$in\":[");
	for (i = 0; i < PT_FILTER_MAX_NODES; i++)
		pt_buf_printf(&b, "%s%d", i ? "," : "", i);
	pt_buf_adds(&b, "]}}}");
	doc = parse(b.data);
	ok(pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) ==
	    PT_EINVAL && strcmp(ptr, "/body/a/$in") == 0 &&
	    strstr(err, "more than 512 conditions") != NULL,
	    "a list of %d values is refused: %s: %s", PT_FILTER_MAX_NODES,
	    ptr, err);
	pt_json_put(doc);
	pt_buf_reset(&b);
	pt_buf_adds(&b, "{\"body\":{\"a\":{\"$in\":[");
	for (i = 0; i < PT_FILTER_MAX_NODES - 8; i++)
		pt_buf_printf(&b, "%s%d", i ? "," : "", i);
	pt_buf_adds(&b, "]}}}");
	doc = parse(b.data);
	ok(pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) ==
	    PT_OK, "a list of %d values compiles", PT_FILTER_MAX_NODES - 8);
	pt_filter_free(f);
	f = NULL;
	pt_json_put(doc);
	pt_buf_reset(&b);
	pt_buf_adds(&b, "{\"body\":{");
	for (i = 0; i < PT_FILTER_MAX_NODES; i++)
		pt_buf_printf(&b, "%s\"k%d\":{\"$exist\":true}", i ? "," : "",
		    i);
	pt_buf_adds(&b, "}}");
	doc = parse(b.data);
	ok(pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) ==
	    PT_EINVAL && strstr(err, "more than 512") != NULL,
	    "%d conditions are refused: %s: %s", PT_FILTER_MAX_NODES, ptr,
	    err);
	pt_json_put(doc);

	/* Bytes of strings. */
	pt_buf_reset(&b);
	pt_buf_adds(&b, "{\"body\":{\"a\":{\"$in\":\"");
	for (i = 0; i < PT_FILTER_MAX_BYTES; i++)
		pt_buf_addc(&b, 'x');
	pt_buf_adds(&b, "\"}}}");
	doc = parse(b.data);
	ok(pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) ==
	    PT_EINVAL && strstr(err, "bytes of strings") != NULL,
	    "a %d-byte string is refused: %s: %s", PT_FILTER_MAX_BYTES, ptr,
	    err);
	pt_json_put(doc);

	/* A pointer buffer too short is cut, never overrun. */
	doc = parse("{\"body\":{\"aaaaaaaa\":{\"bbbbbbbb\":{\"$zz\":1}}}}");
	memset(ptr, 'X', sizeof(ptr));
	ok(pt_filter_compile(doc, &f, ptr, 12, err, 8) == PT_EINVAL &&
	    strcmp(ptr, "/body/aaaaa") == 0 && strlen(err) == 7 &&
	    ptr[12] == 'X', "short buffers: \"%s\", \"%s\"", ptr, err);
	ok(pt_filter_compile(doc, &f, NULL, 0, NULL, 0) == PT_EINVAL,
	    "no buffers at all");
	pt_json_put(doc);
	pt_buf_free(&b);
}

/*
 * A hostile pair: many conditions on a large array of objects.  The match
 * must stop at the step budget, say so, and not be turned into a match by
 * $not or $nin.
 */
static void
test_budget(void)
{
	struct pt_filter_why w;
	struct pt_filter *f = NULL, *g = NULL;
	struct pt_buf b = { 0 }, e = { 0 };
	pt_json *doc, *input;
	char ptr[200], err[300], text[300];
	clock_t t0;
	double ms;
	int i, r;

	/* No item is listed: every one is compared with every value. */
	pt_buf_adds(&b, "{\"body\":{\"items\":{\"a\":{\"$in\":[");
	for (i = 0; i < 400; i++)
		pt_buf_printf(&b, "%s\"x%d\"", i ? "," : "", i);
	pt_buf_adds(&b, "]}}}}");
	doc = parse(b.data);
	if (pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) !=
	    PT_OK)
		abort();
	pt_json_put(doc);
	/* Every item is listed: $nin fails on each after a long search. */
	pt_buf_reset(&b);
	pt_buf_adds(&b, "{\"body\":{\"$not\":{\"items\":{\"a\":{\"$nin\":[");
	for (i = 0; i < 400; i++)
		pt_buf_printf(&b, "%s\"v%d\"", i ? "," : "", i);
	pt_buf_adds(&b, "]}}}}}");
	doc = parse(b.data);
	if (pt_filter_compile(doc, &g, ptr, sizeof(ptr), err, sizeof(err)) !=
	    PT_OK)
		abort();
	pt_json_put(doc);

	pt_buf_adds(&e, "{\"body\":{\"items\":[");
	for (i = 0; i < 100000; i++)
		pt_buf_printf(&e, "%s{\"a\":\"v%d\"}", i ? "," : "",
		    399 - i % 400);
	pt_buf_adds(&e, "]}}");
	input = parse(e.data);

	t0 = clock();
	r = pt_filter_match(f, input, &w);
	ms = (double)(clock() - t0) * 1000.0 / CLOCKS_PER_SEC;
	(void)pt_filter_why_text(&w, text, sizeof(text));
	ok(r == 0 && strstr(text, "more work than a filter may do") != NULL &&
	    strncmp(text, "/body/items", 11) == 0,
	    "40 million comparisons stop at the budget: %s", text);
	diag("a match that ran out of its %d steps took %.1f ms of CPU",
	    PT_FILTER_MAX_STEPS, ms);
	ok(ms < 2000, "and in bounded time");
	r = pt_filter_match(g, input, &w);
	(void)pt_filter_why_text(&w, text, sizeof(text));
	ok(r == 0 && strstr(text, "more work") != NULL,
	    "$not of an exhausted $nin is no match: %s", text);

	pt_json_put(input);
	pt_filter_free(f);
	pt_filter_free(g);
	pt_buf_free(&b);
	pt_buf_free(&e);
}

/* Arrays nested deeper than a match may recurse: no crash, a reason. */
static void
test_deep_event(void)
{
	struct pt_filter_why w;
	struct pt_filter *f = NULL;
	pt_json *doc, *input, *v, *arr;
	char ptr[200], err[300], text[300];
	int i;

	doc = parse("{\"preprocess\":{\"x\":7}}");
	if (pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) !=
	    PT_OK)
		abort();
	pt_json_put(doc);
	/* Built by hand: a script's output is not limited by the parser. */
	v = pt_json_new_int(7);
	for (i = 0; i < 10000; i++) {
		arr = pt_json_new_array();
		if (arr == NULL || pt_json_append(arr, v) != PT_OK)
			abort();
		v = arr;
	}
	input = pt_json_new_object();
	if (input == NULL || pt_json_set(v = pt_json_new_object(), "x", arr) !=
	    PT_OK || pt_json_set(input, "preprocess", v) != PT_OK)
		abort();
	ok(pt_filter_match(f, input, &w) == 0 &&
	    (pt_filter_why_text(&w, text, sizeof(text)), 1) &&
	    strcmp(text, "/preprocess/x: the event is nested too deeply") == 0,
	    "10000 nested arrays: %s", text);
	pt_json_put(input);
	pt_filter_free(f);
}

static void
test_why_buffers(void)
{
	struct pt_filter_why w;
	struct pt_filter *f = NULL;
	pt_json *doc, *input;
	char ptr[200], err[300], buf[64];
	size_t n;

	doc = parse("{\"body\":{\"type\":\"created\"}}");
	input = parse("{\"body\":{\"type\":\"deleted\"}}");
	if (pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) !=
	    PT_OK)
		abort();
	ok(pt_filter_match(f, input, NULL) == 0, "no why needed");
	ok(pt_filter_match(f, input, &w) == 0, "no match");
	n = pt_filter_why_pointer(&w, buf, sizeof(buf));
	ok(n == 10 && strcmp(buf, "/body/type") == 0, "pointer \"%s\"", buf);
	memset(buf, 'X', sizeof(buf));
	n = pt_filter_why_text(&w, buf, 8);
	ok(n == strlen("/body/type: not equal") && strcmp(buf, "/body/t") == 0
	    && buf[8] == 'X', "cut text \"%s\", %zu needed", buf, n);
	n = pt_filter_why_text(&w, buf, 14);
	ok(strcmp(buf, "/body/type: n") == 0, "cut text \"%s\"", buf);
	n = pt_filter_why_text(&w, NULL, 0);
	ok(n == 21, "length alone: %zu", n);
	pt_json_put(input);
	input = parse("{\"body\":{\"type\":\"created\"}}");
	ok(pt_filter_match(f, input, &w) == 1 && w.node == NULL &&
	    w.reason == NULL, "a match leaves no reason");
	pt_json_put(input);
	pt_json_put(doc);
	pt_filter_free(f);
}

/* Every allocation of a compilation failing in turn: PT_ENOMEM, no leak. */
static void
test_alloc_failures(void)
{
	static const char text[] =
	    "{\"body\":{\"type\":{\"$in\":[\"a\",\"b\"]},\"items\":[{\"id\":1}],"
	    "\"$or\":[{\"x\":{\"$exist\":true,\"$gt\":1}},{\"y\":\"z\"}]},"
	    "\"headers\":{\"X-A\":{\"$not\":{\"$startsWith\":[\"p\"]}}}}";
	struct pt_filter *f;
	pt_json *doc = parse(text), *input;
	char ptr[200], err[300];
	long n, total;
	int bad = 0;
	enum pt_err rc;

	(void)pt_alloc_fail_after(-1);
	f = NULL;
	if (pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) !=
	    PT_OK)
		abort();
	pt_filter_free(f);
	total = pt_alloc_fail_after(-1);
	for (n = 0; n < total + 2; n++) {
		f = NULL;
		(void)pt_alloc_fail_after(n);
		rc = pt_filter_compile(doc, &f, ptr, sizeof(ptr), err,
		    sizeof(err));
		(void)pt_alloc_fail_after(-1);
		if (rc == PT_OK) {
			if (n < total - 1)
				bad++;
			pt_filter_free(f);
		} else if (rc != PT_ENOMEM || f != NULL ||
		    strcmp(err, "out of memory") != 0)
			bad++;
	}
	ok(bad == 0 && total > 10, "each of %ld allocations failing: "
	    "out of memory, nothing leaked", total);
	/* Matching allocates nothing. */
	f = NULL;
	if (pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err)) !=
	    PT_OK)
		abort();
	input = parse("{\"body\":{\"type\":\"a\",\"items\":[{\"id\":1}],"
	    "\"y\":\"z\"},\"headers\":{\"x-a\":\"q\"}}");
	(void)pt_alloc_fail_after(0);
	ok(pt_filter_match(f, input, NULL) == 1, "a match with no memory to "
	    "allocate");
	(void)pt_alloc_fail_after(-1);
	pt_json_put(input);
	pt_filter_free(f);
	pt_json_put(doc);
}

int
main(void)
{
	test_body_cases();
	test_event_cases();
	test_bad_cases();
	test_bounds();
	test_budget();
	test_deep_event();
	test_why_buffers();
	test_alloc_failures();
	pt_filter_free(NULL);
	return tap_done();
}
