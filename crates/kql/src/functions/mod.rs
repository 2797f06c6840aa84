//! Scalar builtins, by family. [`BUILTINS`] is the one table to extend: the
//! planner looks functions up here (type checking via `ret`), the evaluator
//! calls `eval`, and the supported-functions list in the docs is generated
//! from it.
//!
//! Functions that need the planner's help are *not* here: `now`, `ago`
//! (need the query's fixed `now`), `toscalar`, `materialize` (tabular),
//! `row_number`, `prev`, `next` (window state), `iff`/`case`/`coalesce`
//! are here (plain values) — see `plan` for the special ones.

pub mod conditional;
pub mod conversion;
pub mod datetime;
pub mod dynamic;
pub mod hash;
pub mod ip;
pub mod matching;
pub mod math;
pub mod ops;
pub mod string;

use crate::value::{Type, Value};
use std::borrow::Cow;

/// What the planner knows about one argument when checking a call.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgInfo {
    pub ty: Type,
    /// `Some` when the argument is a constant (literal or constant-folded);
    /// lets `ret` depend on e.g. a `typeof(long)` argument or a format.
    pub constant: Option<Value>,
    /// `Some(t)` for a `typeof(t)` argument (then `ty` is `String` and the
    /// value passed to `eval` is the type name as a string).
    pub type_of: Option<Type>,
}

impl ArgInfo {
    /// An argument of type `ty`, not constant.
    pub fn of(ty: Type) -> ArgInfo {
        ArgInfo {
            ty,
            constant: None,
            type_of: None,
        }
    }
}

/// The result type of a call, or a message saying what is wrong with the
/// arguments (the planner attaches the span).
pub type RetFn = fn(&[ArgInfo]) -> Result<Type, String>;

/// Evaluates a call. Arguments arrive already evaluated, typed as `ret` was
/// told (the planner inserts no implicit casts: a function receiving `Int`
/// where it expects `Long` must accept both). Errors are runtime errors
/// (e.g. an invalid regex); bad *data* gives null, as in Kusto.
pub type EvalFn = fn(&[Value]) -> Result<Value, String>;

#[derive(Clone, Copy)]
pub struct FunctionDef {
    pub name: &'static str,
    pub min_args: usize,
    /// `usize::MAX` for varargs.
    pub max_args: usize,
    pub ret: RetFn,
    pub eval: EvalFn,
    /// One line for the generated docs.
    pub doc: &'static str,
}

impl std::fmt::Debug for FunctionDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionDef")
            .field("name", &self.name)
            .finish()
    }
}

// ------------------------------------------------------------ arg helpers

static NULL: Value = Value::Null;

/// The `i`-th argument, or null when absent.
pub(crate) fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&NULL)
}

/// The `i`-th argument as text (`tostring` rules).
pub(crate) fn arg_str(args: &[Value], i: usize) -> Cow<'_, str> {
    ops::str_of(arg(args, i))
}

/// The `i`-th argument as an integer (reals truncate; null/garbage `None`).
pub(crate) fn arg_i64(args: &[Value], i: usize) -> Option<i64> {
    match ops::cast(arg(args, i), Type::Long) {
        Value::Long(l) => Some(l),
        _ => None,
    }
}

/// The `i`-th argument as a real.
pub(crate) fn arg_f64(args: &[Value], i: usize) -> Option<f64> {
    match ops::cast(arg(args, i), Type::Real) {
        Value::Real(r) => Some(r),
        _ => None,
    }
}

/// The `i`-th argument as datetime ticks (strings are parsed).
pub(crate) fn arg_dt(args: &[Value], i: usize) -> Option<i64> {
    match arg(args, i) {
        Value::DateTime(t) => Some(*t),
        other => match ops::cast(other, Type::DateTime) {
            Value::DateTime(t) => Some(t),
            _ => None,
        },
    }
}

/// The `i`-th argument as timespan ticks.
pub(crate) fn arg_ts(args: &[Value], i: usize) -> Option<i64> {
    match arg(args, i) {
        Value::TimeSpan(t) => Some(*t),
        Value::String(s) => crate::time::parse_timespan(s),
        other => match ops::normalize(other).as_ref() {
            Value::TimeSpan(t) => Some(*t),
            Value::String(s) => crate::time::parse_timespan(s),
            _ => None,
        },
    }
}

/// The `i`-th argument as a JSON array, if it is one.
pub(crate) fn arg_array(args: &[Value], i: usize) -> Option<&Vec<serde_json::Value>> {
    match arg(args, i) {
        Value::Dynamic(j) => j.as_array(),
        _ => None,
    }
}

// ----------------------------------------------------------- ret helpers

pub(crate) fn ret_bool(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::Bool)
}
pub(crate) fn ret_int(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::Int)
}
pub(crate) fn ret_long(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::Long)
}
pub(crate) fn ret_real(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::Real)
}
pub(crate) fn ret_decimal(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::Decimal)
}
pub(crate) fn ret_string(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::String)
}
pub(crate) fn ret_datetime(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::DateTime)
}
pub(crate) fn ret_timespan(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::TimeSpan)
}
pub(crate) fn ret_guid(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::Guid)
}
pub(crate) fn ret_dynamic(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::Dynamic)
}
/// The first argument's type.
pub(crate) fn ret_first(a: &[ArgInfo]) -> Result<Type, String> {
    a.first()
        .map(|a| a.ty)
        .ok_or_else(|| "missing argument".to_string())
}

/// The common type of several value arguments (`coalesce`, `max_of`...):
/// equal types stay, numbers promote (int < long < real < decimal), a
/// dynamic argument takes the other's type (as Kusto.Language does); other
/// mixes are an error.
pub(crate) fn unify<'a>(tys: impl IntoIterator<Item = &'a ArgInfo>) -> Result<Type, String> {
    unify_with(tys, false)
}

/// Like [`unify`], but mixed types give `dynamic` instead of an error
/// (`iff(p, "a", 1)` is dynamic in Kusto.Language).
pub(crate) fn unify_lenient<'a>(
    tys: impl IntoIterator<Item = &'a ArgInfo>,
) -> Result<Type, String> {
    unify_with(tys, true)
}

fn unify_with<'a>(
    tys: impl IntoIterator<Item = &'a ArgInfo>,
    lenient: bool,
) -> Result<Type, String> {
    let rank = |t: Type| match t {
        Type::Int => 1,
        Type::Long => 2,
        Type::Real => 3,
        _ => 4,
    };
    let mut out: Option<Type> = None;
    let mut mixed = false;
    for a in tys {
        out = Some(match out {
            None => a.ty,
            Some(t) if t == a.ty => t,
            Some(t) if t.is_numeric() && a.ty.is_numeric() => {
                if rank(a.ty) > rank(t) {
                    a.ty
                } else {
                    t
                }
            }
            Some(Type::Dynamic) => a.ty,
            Some(t) if a.ty == Type::Dynamic => t,
            Some(t) if lenient => {
                mixed = true;
                t
            }
            Some(t) => {
                return Err(format!(
                    "arguments must have a common type, got {t} and {}",
                    a.ty
                ))
            }
        });
    }
    if mixed {
        return Ok(Type::Dynamic);
    }
    out.ok_or_else(|| "missing argument".to_string())
}

const MANY: usize = usize::MAX;

macro_rules! def {
    ($name:expr, $min:expr, $max:expr, $ret:expr, $eval:expr, $doc:expr) => {
        FunctionDef {
            name: $name,
            min_args: $min,
            max_args: $max,
            ret: $ret,
            eval: $eval,
            doc: $doc,
        }
    };
}

use conditional as cnd;
use conversion as cv;
use datetime as dt;
use dynamic as dy;
use hash as hs;
use math as mt;
use string as st;

/// Every builtin scalar function, aliases as separate entries.
pub static BUILTINS: &[FunctionDef] = &[
    // ---- conversion
    def!("tostring", 1, 1, ret_string, cv::tostring, "Converts any value to its string form (null -> \"\")."),
    def!("toint", 1, 1, ret_int, cv::toint, "Converts to int (truncates reals; null if not convertible)."),
    def!("tolong", 1, 1, ret_long, cv::tolong, "Converts to long (truncates reals; null if not convertible)."),
    def!("todouble", 1, 1, ret_real, cv::toreal, "Converts to real."),
    def!("toreal", 1, 1, ret_real, cv::toreal, "Converts to real (alias of todouble)."),
    def!("todecimal", 1, 1, ret_decimal, cv::todecimal, "Converts to decimal."),
    def!("todatetime", 1, 1, ret_datetime, cv::todatetime, "Parses or converts to datetime (null if not a date)."),
    def!("totimespan", 1, 1, ret_timespan, cv::totimespan, "Parses or converts to timespan."),
    def!("tobool", 1, 1, ret_bool, cv::tobool, "Converts to bool (\"true\"/\"false\", numbers != 0)."),
    def!("toboolean", 1, 1, ret_bool, cv::tobool, "Alias of tobool."),
    def!("toguid", 1, 1, ret_guid, cv::toguid, "Parses a guid (null if invalid)."),
    def!("parse_json", 1, 1, ret_dynamic, cv::parse_json, "Parses JSON text to dynamic (invalid JSON -> dynamic string, \"\" -> null)."),
    def!("todynamic", 1, 1, ret_dynamic, cv::parse_json, "Alias of parse_json."),
    def!("tohex", 1, 2, ret_string, cv::tohex, "Hexadecimal text of an integer (two's complement), optionally zero-padded."),
    def!("gettype", 1, 1, ret_string, cv::gettype, "The type name of a value (`array`, `dictionary` for dynamic containers)."),
    // ---- strings
    def!("strcat", 1, MANY, ret_string, st::strcat, "Concatenates the string forms of its arguments."),
    def!("strcat_delim", 2, MANY, ret_string, st::strcat_delim, "Concatenates arguments 2.. separated by argument 1."),
    def!("strcat_array", 2, 2, ret_string, st::strcat_array, "Joins the elements of an array with a delimiter."),
    def!("strlen", 1, 1, ret_long, st::strlen, "Number of characters."),
    def!("string_size", 1, 1, ret_long, st::string_size, "Number of bytes (UTF-8)."),
    def!("substring", 2, 3, ret_string, st::substring, "substring(s, start [, length]), 0-based, in characters."),
    def!("split", 2, 3, ret_dynamic, st::split, "Splits a string into an array, optionally returning only element i (as an array)."),
    def!("indexof", 2, 5, ret_long, st::indexof, "indexof(s, lookup [, start, length, occurrence]): character index or -1."),
    def!("replace_string", 3, 3, ret_string, st::replace_string, "Replaces every occurrence of a plain string."),
    def!("replace_regex", 3, 3, ret_string, st::replace_regex, "Replaces every regex match; the rewrite may use \\1-style groups."),
    def!("replace", 3, 3, ret_string, st::replace_legacy, "Legacy replace(regex, rewrite, text)."),
    def!("tolower", 1, 1, ret_string, st::tolower, "Lowercase (Unicode)."),
    def!("toupper", 1, 1, ret_string, st::toupper, "Uppercase (Unicode)."),
    def!("reverse", 1, 1, ret_string, st::reverse, "Reverses the characters of a string."),
    def!("trim", 2, 2, ret_string, st::trim, "trim(regex, s): removes leading and trailing matches of a regex."),
    def!("trim_start", 2, 2, ret_string, st::trim_start, "trim_start(regex, s): removes leading matches of a regex."),
    def!("trim_end", 2, 2, ret_string, st::trim_end, "trim_end(regex, s): removes trailing matches of a regex."),
    def!("extract", 3, 4, st::extract_ret, st::extract, "extract(regex, group, s [, typeof(T)]): a capture group (\"\" or null when no match)."),
    def!("extract_all", 2, 3, ret_dynamic, st::extract_all, "All matches of a regex (array; arrays of groups with several groups)."),
    def!("countof", 2, 3, ret_long, st::countof, "Occurrences of a substring (overlapping) or of a regex (kind \"regex\")."),
    def!("base64_decode_tostring", 1, 1, ret_string, st::base64_decode_tostring, "Decodes base64 to a UTF-8 string."),
    def!("base64_encode_tostring", 1, 1, ret_string, st::base64_encode_tostring, "Encodes a string's UTF-8 bytes as base64."),
    def!("base64_encodestring", 1, 1, ret_string, st::base64_encode_tostring, "Legacy alias of base64_encode_tostring."),
    def!("base64_decodestring", 1, 1, ret_string, st::base64_decode_tostring, "Legacy alias of base64_decode_tostring."),
    def!("url_decode", 1, 1, ret_string, st::url_decode, "Decodes %XX escapes (and + as space)."),
    def!("url_encode", 1, 1, ret_string, st::url_encode, "Percent-encodes a string."),
    def!("url_encode_component", 1, 1, ret_string, st::url_encode, "Percent-encodes a URL component."),
    def!("parse_url", 1, 1, ret_dynamic, st::parse_url, "Splits a URL into a bag: Scheme, Host, Port, Path, Username, Password, Query Parameters, Fragment."),
    def!("parse_path", 1, 1, ret_dynamic, st::parse_path, "Splits a file path into a bag: Scheme, RootPath, DirectoryPath, DirectoryName, Filename, Extension, AlternateDataStreamName."),
    def!("parse_command_line", 2, 2, ret_dynamic, st::parse_command_line, "Splits a Windows command line into an array of arguments."),
    def!("strrep", 2, 3, ret_string, st::strrep, "strrep(s, n [, delimiter]): repeats a string."),
    def!("hash_sha256", 1, 1, ret_string, hs::hash_sha256, "SHA-256 of the UTF-8 text, lowercase hex."),
    def!("hash_sha1", 1, 1, ret_string, hs::hash_sha1, "SHA-1 of the UTF-8 text, lowercase hex."),
    def!("hash_md5", 1, 1, ret_string, hs::hash_md5, "MD5 of the UTF-8 text, lowercase hex."),
    def!("strcmp", 2, 2, ret_long, st::strcmp, "Ordinal comparison: -1, 0 or 1."),
    def!("isascii", 1, 1, ret_bool, st::isascii, "Whether every character is ASCII."),
    def!("isutf8", 1, 1, ret_bool, st::isutf8, "Whether the text is valid UTF-8 (always, for our strings)."),
    def!("indexof_regex", 2, 3, ret_long, st::indexof_regex, "Character index of the first regex match (from a start index), or -1."),
    def!("translate", 3, 3, ret_string, st::translate, "translate(from, to, s): replaces characters one for one."),
    def!("parse_csv", 1, 1, ret_dynamic, st::parse_csv, "Splits one CSV record into a string array."),
    def!("base64_decode_toarray", 1, 1, ret_dynamic, st::base64_decode_toarray, "Decodes base64 to an array of byte values."),
    def!("base64_encode_fromarray", 1, 1, ret_string, st::base64_encode_fromarray, "Encodes an array of byte values as base64."),
    def!("parse_version", 1, 1, ret_decimal, cv::parse_version, "A version string (up to 4 parts) as a comparable decimal."),
    def!("unicode_codepoints_from_string", 1, 1, ret_dynamic, st::unicode_codepoints_from_string, "The Unicode code points of a string."),
    def!("unicode_codepoints_to_string", 1, 1, ret_string, st::make_string, "A string from an array of code points."),
    def!("make_string", 1, MANY, ret_string, st::make_string, "A string from code points (numbers or arrays)."),
    def!("format_bytes", 1, 3, ret_string, st::format_bytes, "A byte count for people: `564 Bytes`, `11 KB`, `19.08 MB`."),
    // ---- conditionals / null tests
    def!("iff", 3, 3, cnd::iff_ret, cnd::iff, "iff(p, a, b): a if p is true, else b (also when p is null)."),
    def!("iif", 3, 3, cnd::iff_ret, cnd::iff, "Alias of iff."),
    def!("case", 3, MANY, cnd::case_ret, cnd::case, "case(p1, v1, p2, v2, ..., else): the value of the first true predicate."),
    def!("coalesce", 1, MANY, cnd::coalesce_ret, cnd::coalesce, "First non-null (for strings: non-empty) argument."),
    def!("max_of", 1, MANY, cnd::coalesce_ret, cnd::max_of, "Largest argument, skipping nulls."),
    def!("min_of", 1, MANY, cnd::coalesce_ret, cnd::min_of, "Smallest argument, skipping nulls."),
    def!("isempty", 1, 1, ret_bool, cnd::isempty, "True for null of any type and for \"\"."),
    def!("isnotempty", 1, 1, ret_bool, cnd::isnotempty, "Negation of isempty."),
    def!("notempty", 1, 1, ret_bool, cnd::isnotempty, "Alias of isnotempty."),
    def!("isnull", 1, 1, ret_bool, cnd::isnull, "True for null (never for strings)."),
    def!("isnotnull", 1, 1, ret_bool, cnd::isnotnull, "Negation of isnull."),
    def!("notnull", 1, 1, ret_bool, cnd::isnotnull, "Alias of isnotnull."),
    def!("not", 1, 1, ret_bool, cnd::not, "Logical negation (null stays null)."),
    // ---- dynamic
    def!("array_length", 1, 1, ret_long, dy::array_length, "Number of elements of an array (null for non-arrays)."),
    def!("pack_array", 0, MANY, ret_dynamic, dy::pack_array, "An array of the arguments."),
    def!("bag_pack", 0, MANY, dy::bag_pack_ret, dy::bag_pack, "A property bag from key, value pairs."),
    def!("pack", 0, MANY, dy::bag_pack_ret, dy::bag_pack, "Alias of bag_pack."),
    def!("pack_dictionary", 0, MANY, dy::bag_pack_ret, dy::bag_pack, "Alias of bag_pack."),
    def!("set_union", 2, MANY, ret_dynamic, dy::set_union, "Distinct union of arrays."),
    def!("set_intersect", 2, MANY, ret_dynamic, dy::set_intersect, "Distinct elements present in every array."),
    def!("set_difference", 2, MANY, ret_dynamic, dy::set_difference, "Distinct elements of the first array in none of the others."),
    def!("set_has_element", 2, 2, ret_bool, dy::set_has_element, "Whether an array contains a value."),
    def!("array_concat", 1, MANY, ret_dynamic, dy::array_concat, "Concatenates arrays."),
    def!("array_slice", 3, 3, ret_dynamic, dy::array_slice, "array_slice(a, start, end): inclusive slice; negative indexes count from the end."),
    def!("array_index_of", 2, 2, ret_long, dy::array_index_of, "Index of a value in an array, or -1."),
    def!("array_reverse", 1, 1, ret_dynamic, dy::array_reverse, "Reverses an array."),
    def!("array_sort_asc", 1, 1, ret_dynamic, dy::array_sort_asc, "Sorts an array ascending (nulls last)."),
    def!("array_sort_desc", 1, 1, ret_dynamic, dy::array_sort_desc, "Sorts an array descending (nulls last)."),
    def!("array_sum", 1, 1, ret_real, dy::array_sum, "Sum of the numeric elements of an array."),
    def!("bag_keys", 1, 1, ret_dynamic, dy::bag_keys, "The keys of a property bag."),
    def!("bag_has_key", 2, 2, ret_bool, dy::bag_has_key, "Whether a bag has a key."),
    def!("bag_merge", 1, MANY, ret_dynamic, dy::bag_merge, "Merges bags (first wins on duplicate keys)."),
    def!("bag_remove_keys", 2, 2, ret_dynamic, dy::bag_remove_keys, "A bag without the listed keys."),
    def!("zip", 2, MANY, ret_dynamic, dy::zip, "Zips arrays into an array of arrays (shorter ones padded with null)."),
    def!("extract_json", 2, 3, dy::extract_json_ret, dy::extract_json, "extract_json(path, json [, typeof(T)]): the element at a JSONPath."),
    def!("extractjson", 2, 3, dy::extract_json_ret, dy::extract_json, "Alias of extract_json."),
    def!("dynamic_to_json", 1, 1, ret_string, dy::dynamic_to_json, "JSON text of a dynamic value."),
    def!("range", 2, 3, ret_dynamic, dy::range, "range(start, stop [, step]): an array of values."),
    def!("repeat", 2, 2, ret_dynamic, dy::repeat, "repeat(value, n): an array of n copies."),
    // ---- datetime
    def!("bin", 2, 2, dt::bin_ret, dt::bin, "Floors a number, timespan or datetime to a multiple of the bin size."),
    def!("floor", 2, 2, dt::bin_ret, dt::bin, "Alias of bin."),
    def!("bin_at", 3, 3, dt::bin_ret, dt::bin_at, "bin aligned to an anchor value."),
    def!("startofday", 1, 2, ret_datetime, dt::startofday, "Midnight of the day (optionally offset by days)."),
    def!("startofweek", 1, 2, ret_datetime, dt::startofweek, "Sunday midnight of the week (optionally offset by weeks)."),
    def!("startofmonth", 1, 2, ret_datetime, dt::startofmonth, "First day of the month (optionally offset by months)."),
    def!("startofyear", 1, 2, ret_datetime, dt::startofyear, "First day of the year (optionally offset by years)."),
    def!("endofday", 1, 2, ret_datetime, dt::endofday, "Last tick of the day."),
    def!("endofweek", 1, 2, ret_datetime, dt::endofweek, "Last tick of the week (Saturday)."),
    def!("endofmonth", 1, 2, ret_datetime, dt::endofmonth, "Last tick of the month."),
    def!("endofyear", 1, 2, ret_datetime, dt::endofyear, "Last tick of the year."),
    def!("dayofweek", 1, 1, ret_timespan, dt::dayofweek, "Days since the preceding Sunday, as a timespan."),
    def!("dayofmonth", 1, 1, ret_int, dt::dayofmonth, "Day of the month (1-31)."),
    def!("dayofyear", 1, 1, ret_int, dt::dayofyear, "Day of the year (1-366)."),
    def!("hourofday", 1, 1, ret_int, dt::hourofday, "Hour (0-23)."),
    def!("monthofyear", 1, 1, ret_int, dt::getmonth, "Month (1-12)."),
    def!("getmonth", 1, 1, ret_int, dt::getmonth, "Month (1-12)."),
    def!("getyear", 1, 1, ret_int, dt::getyear, "Year."),
    def!("weekofyear", 1, 1, ret_int, dt::weekofyear, "ISO 8601 week number."),
    def!("week_of_year", 1, 1, ret_int, dt::weekofyear, "ISO 8601 week number."),
    def!("datetime_add", 3, 3, ret_datetime, dt::datetime_add, "datetime_add(part, n, dt): adds n calendar units."),
    def!("datetime_diff", 3, 3, ret_long, dt::datetime_diff, "datetime_diff(part, a, b): calendar-unit boundaries between b and a."),
    def!("datetime_part", 2, 2, ret_int, dt::datetime_part, "datetime_part(part, dt): one calendar field."),
    def!("format_datetime", 2, 2, ret_string, dt::format_datetime, "Formats a datetime with .NET-style specifiers (yyyy-MM-dd HH:mm:ss.fff)."),
    def!("format_timespan", 2, 2, ret_string, dt::format_timespan, "Formats a timespan with specifiers (d, hh, mm, ss, f...)."),
    def!("make_datetime", 3, 7, ret_datetime, dt::make_datetime, "make_datetime(y, m, d [, h, min, sec]) (sec may be fractional)."),
    def!("make_timespan", 2, 5, ret_timespan, dt::make_timespan, "make_timespan([d,] h, m [, s])."),
    def!("unixtime_seconds_todatetime", 1, 1, ret_datetime, dt::unix_seconds, "Datetime from Unix seconds."),
    def!("unixtime_milliseconds_todatetime", 1, 1, ret_datetime, dt::unix_millis, "Datetime from Unix milliseconds."),
    def!("unixtime_microseconds_todatetime", 1, 1, ret_datetime, dt::unix_micros, "Datetime from Unix microseconds."),
    def!("unixtime_nanoseconds_todatetime", 1, 1, ret_datetime, dt::unix_nanos, "Datetime from Unix nanoseconds."),
    // ---- IPv4
    def!("parse_ipv4", 1, 1, ret_long, ip::parse_ipv4, "An IPv4 address (optionally with /prefix) as a long."),
    def!("parse_ipv4_mask", 2, 2, ret_long, ip::parse_ipv4_mask, "An IPv4 address masked to a prefix, as a long."),
    def!("format_ipv4", 1, 2, ret_string, ip::format_ipv4, "Dotted text of an IPv4 address (long or text), optionally masked."),
    def!("ipv4_is_private", 1, 1, ret_bool, ip::ipv4_is_private, "RFC 1918 address (10/8, 172.16/12, 192.168/16); null if not IPv4."),
    def!("ipv4_is_in_range", 2, 2, ret_bool, ip::ipv4_is_in_range, "Whether an IPv4 address is in a CIDR range."),
    def!("ipv4_is_in_any_range", 2, MANY, ret_bool, ip::ipv4_is_in_any_range, "Whether an IPv4 address is in any of the ranges (arguments or an array)."),
    def!("ipv4_is_match", 2, 3, ret_bool, ip::ipv4_is_match, "Whether two IPv4 addresses match (under a prefix)."),
    def!("ipv4_compare", 2, 3, ret_long, ip::ipv4_compare, "Compares two IPv4 addresses: -1, 0 or 1."),
    def!("has_ipv4", 2, 2, ret_bool, ip::has_ipv4, "Whether text contains the IPv4 address as a delimited token."),
    def!("has_any_ipv4", 2, MANY, ret_bool, ip::has_any_ipv4, "Whether text contains any of the IPv4 addresses."),
    def!("has_ipv4_prefix", 2, 2, ret_bool, ip::has_ipv4_prefix, "Whether text contains an IPv4 address starting with the prefix."),
    def!("format_ipv4_mask", 1, 2, ret_string, ip::format_ipv4_mask, "An IPv4 address masked to a prefix, as `a.b.c.d/n`."),
    def!("ipv4_netmask_suffix", 1, 1, ret_long, ip::ipv4_netmask_suffix, "The prefix length of `a.b.c.d/n` (32 when absent)."),
    def!("ipv6_compare", 2, 3, ret_long, ip::ipv6_compare, "Compares two IPv6 (or IPv4) addresses: -1, 0 or 1."),
    def!("ipv6_is_match", 2, 3, ret_bool, ip::ipv6_is_match, "Whether two IPv6 (or IPv4) addresses match (under a prefix)."),
    def!("ipv6_is_in_range", 2, 2, ret_bool, ip::ipv6_is_in_range, "Whether an IPv6 (or IPv4) address is in a CIDR range."),
    def!("ipv6_is_in_any_range", 2, MANY, ret_bool, ip::ipv6_is_in_any_range, "Whether an IPv6 (or IPv4) address is in any of the ranges."),
    def!("parse_ipv6", 1, 1, ret_string, ip::parse_ipv6, "The full eight-group form of an IPv6 (or mapped IPv4) address."),
    def!("parse_ipv6_mask", 2, 2, ret_string, ip::parse_ipv6_mask, "parse_ipv6 masked to a prefix."),
    // ---- math
    def!("binary_and", 2, 2, ret_long, mt::binary_and, "Bitwise AND."),
    def!("binary_or", 2, 2, ret_long, mt::binary_or, "Bitwise OR."),
    def!("binary_xor", 2, 2, ret_long, mt::binary_xor, "Bitwise XOR."),
    def!("binary_not", 1, 1, ret_long, mt::binary_not, "Bitwise NOT."),
    def!("binary_shift_left", 2, 2, ret_long, mt::binary_shift_left, "Shifts bits left."),
    def!("binary_shift_right", 2, 2, ret_long, mt::binary_shift_right, "Shifts bits right (arithmetic)."),
    def!("bitset_count_ones", 1, 1, ret_long, mt::bitset_count_ones, "Number of set bits."),
    def!("abs", 1, 1, mt::abs_ret, mt::abs, "Absolute value."),
    def!("round", 1, 2, mt::round_ret, mt::round, "Rounds to a number of decimal places (half away from zero)."),
    def!("ceiling", 1, 1, ret_first, mt::ceiling, "Smallest integer not below the value."),
    def!("sqrt", 1, 1, ret_real, mt::sqrt, "Square root."),
    def!("log", 1, 1, ret_real, mt::log, "Natural logarithm."),
    def!("log2", 1, 1, ret_real, mt::log2, "Base-2 logarithm."),
    def!("log10", 1, 1, ret_real, mt::log10, "Base-10 logarithm."),
    def!("exp", 1, 1, ret_real, mt::exp, "e to the power x."),
    def!("exp2", 1, 1, ret_real, mt::exp2, "2 to the power x."),
    def!("exp10", 1, 1, ret_real, mt::exp10, "10 to the power x."),
    def!("pow", 2, 2, ret_real, mt::pow, "pow(base, exponent)."),
    def!("sign", 1, 1, ret_real, mt::sign, "-1, 0 or 1."),
    def!("pi", 0, 0, ret_real, mt::pi, "The constant pi."),
    def!("isnan", 1, 1, ret_bool, mt::isnan, "Whether a real is NaN."),
    def!("isinf", 1, 1, ret_bool, mt::isinf, "Whether a real is infinite."),
    def!("isfinite", 1, 1, ret_bool, mt::isfinite, "Whether a real is finite."),
];

/// Looks up a builtin by exact (case-sensitive) name.
pub fn lookup(name: &str) -> Option<&'static FunctionDef> {
    BUILTINS.iter().find(|f| f.name == name)
}

/// Calls a builtin by name (tests and constant folding).
pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let f = lookup(name).ok_or_else(|| format!("unknown function {name}"))?;
    if args.len() < f.min_args || args.len() > f.max_args {
        return Err(format!(
            "{name}: wrong number of arguments ({})",
            args.len()
        ));
    }
    (f.eval)(args)
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::value::Value;

    pub fn s(x: &str) -> Value {
        Value::string(x)
    }
    pub fn j(v: serde_json::Value) -> Value {
        Value::dynamic(v)
    }
    pub fn dt(x: &str) -> Value {
        Value::DateTime(crate::time::parse_datetime(x).unwrap_or(-1))
    }

    /// Runs table rows `(name, args, expected)`.
    pub fn check(cases: &[(&str, Vec<Value>, Value)]) {
        for (name, args, want) in cases {
            let got = super::call(name, args);
            assert_eq!(got.as_ref(), Ok(want), "{name}({args:?})");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::BinaryOp;

    /// Awkward values for the no-panic sweeps.
    fn extremes() -> Vec<Value> {
        vec![
            Value::Null,
            Value::Bool(true),
            Value::Int(i32::MIN),
            Value::Long(i64::MIN),
            Value::Long(i64::MAX),
            Value::Long(-1),
            Value::Real(f64::NAN),
            Value::Real(-1e300),
            Value::String("".into()),
            Value::String("(".into()),
            Value::String("ab\u{e9}\u{1F600}%zz%4".into()),
            Value::DateTime(crate::time::MAX_TICKS),
            Value::TimeSpan(i64::MIN),
            Value::dynamic(serde_json::json!([1, "a", null, [2]])),
            Value::dynamic(serde_json::json!({"k": {"n": 1}})),
        ]
    }

    /// Every builtin with every combination of awkward arguments (up to
    /// three) returns a value or an error: never a panic.
    #[test]
    fn builtins_never_panic() {
        let vals = extremes();
        for f in BUILTINS {
            let max = f.max_args.min(3);
            for n in f.min_args..=max.max(f.min_args) {
                let mut idx = vec![0usize; n];
                loop {
                    let args: Vec<Value> = idx.iter().map(|i| vals[*i].clone()).collect();
                    let r = std::panic::catch_unwind(|| (f.eval)(&args));
                    assert!(r.is_ok(), "{}({args:?}) panicked", f.name);
                    // next combination
                    let mut k = 0;
                    while k < n {
                        idx[k] += 1;
                        if idx[k] < vals.len() {
                            break;
                        }
                        idx[k] = 0;
                        k += 1;
                    }
                    if k == n {
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn operators_never_panic() {
        let vals = extremes();
        for (op, _) in BinaryOp::TABLE {
            for l in &vals {
                for r in &vals {
                    let res = std::panic::catch_unwind(|| ops::binary(*op, l, r));
                    assert!(res.is_ok(), "{l:?} {} {r:?} panicked", op.text());
                }
            }
        }
        for v in &vals {
            assert!(std::panic::catch_unwind(|| ops::neg(v)).is_ok(), "-{v:?}");
            for t in Type::ALL {
                assert!(
                    std::panic::catch_unwind(|| ops::cast(v, t)).is_ok(),
                    "cast({v:?}, {t})"
                );
            }
        }
    }

    #[test]
    fn names_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for f in BUILTINS {
            assert!(seen.insert(f.name), "duplicate builtin {}", f.name);
            assert!(!f.doc.is_empty(), "{} has no doc", f.name);
            assert!(f.min_args <= f.max_args, "{}", f.name);
        }
    }
}
