//! Math builtins: `abs`, `round`, `ceiling`, `sqrt`, logs, powers, `sign`,
//! NaN/infinity tests. (`floor` is an alias of `bin`, in `datetime`.)

use super::ops::normalize;
use super::{arg, arg_f64, arg_i64, ArgInfo};
use crate::value::{Type, Value};

type R = Result<Value, String>;

fn real(f: Option<f64>) -> R {
    Ok(f.map(Value::Real).unwrap_or(Value::Null))
}

fn unary(a: &[Value], f: fn(f64) -> f64) -> R {
    real(arg_f64(a, 0).map(f))
}

pub fn abs_ret(a: &[ArgInfo]) -> Result<Type, String> {
    Ok(match a.first().map(|x| x.ty) {
        Some(Type::Int | Type::Long) => Type::Long,
        Some(t @ (Type::Real | Type::Decimal | Type::TimeSpan)) => t,
        _ => Type::Real,
    })
}

pub fn abs(a: &[Value]) -> R {
    Ok(match &*normalize(arg(a, 0)) {
        Value::Int(i) => Value::Long(i64::from(*i).abs()),
        Value::Long(i) => Value::Long(i.wrapping_abs()),
        Value::Real(r) => Value::Real(r.abs()),
        Value::Decimal(d) => Value::Decimal(d.abs()),
        Value::TimeSpan(t) => Value::TimeSpan(t.wrapping_abs()),
        _ => Value::Null,
    })
}

pub fn round_ret(a: &[ArgInfo]) -> Result<Type, String> {
    Ok(match a.first().map(|x| x.ty) {
        Some(Type::Int | Type::Long) if a.len() == 1 => a[0].ty,
        Some(Type::Decimal) => Type::Decimal,
        _ => Type::Real,
    })
}

pub fn round(a: &[Value]) -> R {
    let digits = if a.len() > 1 { arg_i64(a, 1) } else { Some(0) };
    let Some(digits) = digits else {
        return Ok(Value::Null);
    };
    match &*normalize(arg(a, 0)) {
        Value::Int(i) if a.len() == 1 => return Ok(Value::Int(*i)),
        Value::Long(i) if a.len() == 1 => return Ok(Value::Long(*i)),
        Value::Decimal(d) => {
            return Ok(Value::Decimal(d.round_dp_with_strategy(
                digits.clamp(0, 28) as u32,
                rust_decimal::RoundingStrategy::MidpointAwayFromZero,
            )))
        }
        _ => {}
    }
    let Some(x) = arg_f64(a, 0) else {
        return Ok(Value::Null);
    };
    let p = 10f64.powi(digits.clamp(-300, 300) as i32);
    real(Some((x * p).round() / p))
}

pub fn ceiling(a: &[Value]) -> R {
    Ok(match &*normalize(arg(a, 0)) {
        v @ (Value::Int(_) | Value::Long(_)) => v.clone(),
        Value::Decimal(d) => Value::Decimal(d.ceil()),
        _ => return real(arg_f64(a, 0).map(f64::ceil)),
    })
}

pub fn sqrt(a: &[Value]) -> R {
    unary(a, f64::sqrt)
}
pub fn log(a: &[Value]) -> R {
    unary(a, f64::ln)
}
pub fn log2(a: &[Value]) -> R {
    unary(a, f64::log2)
}
pub fn log10(a: &[Value]) -> R {
    unary(a, f64::log10)
}
pub fn exp(a: &[Value]) -> R {
    unary(a, f64::exp)
}
pub fn exp2(a: &[Value]) -> R {
    unary(a, f64::exp2)
}
pub fn exp10(a: &[Value]) -> R {
    unary(a, |x| 10f64.powf(x))
}
pub fn pow(a: &[Value]) -> R {
    real(arg_f64(a, 0).zip(arg_f64(a, 1)).map(|(b, e)| b.powf(e)))
}
pub fn pi(_: &[Value]) -> R {
    real(Some(std::f64::consts::PI))
}

pub fn sign(a: &[Value]) -> R {
    Ok(match arg_f64(a, 0) {
        Some(r) if r.is_nan() => Value::Real(f64::NAN),
        Some(0.0) => Value::Real(0.0),
        Some(r) => Value::Real(r.signum()),
        None => Value::Null,
    })
}

fn real_test(a: &[Value], f: fn(f64) -> bool) -> R {
    Ok(arg_f64(a, 0)
        .map(|x| Value::Bool(f(x)))
        .unwrap_or(Value::Null))
}
pub fn isnan(a: &[Value]) -> R {
    real_test(a, f64::is_nan)
}
pub fn isinf(a: &[Value]) -> R {
    real_test(a, f64::is_infinite)
}
pub fn isfinite(a: &[Value]) -> R {
    real_test(a, f64::is_finite)
}

fn bits(a: &[Value], f: fn(i64, i64) -> Option<i64>) -> R {
    Ok(match (arg_i64(a, 0), arg_i64(a, 1)) {
        (Some(x), Some(y)) => f(x, y).map(Value::Long).unwrap_or(Value::Null),
        _ => Value::Null,
    })
}

pub fn binary_and(a: &[Value]) -> R {
    bits(a, |x, y| Some(x & y))
}
pub fn binary_or(a: &[Value]) -> R {
    bits(a, |x, y| Some(x | y))
}
pub fn binary_xor(a: &[Value]) -> R {
    bits(a, |x, y| Some(x ^ y))
}
pub fn binary_shift_left(a: &[Value]) -> R {
    bits(a, |x, y| {
        u32::try_from(y).ok().and_then(|y| x.checked_shl(y))
    })
}
pub fn binary_shift_right(a: &[Value]) -> R {
    bits(a, |x, y| {
        u32::try_from(y).ok().and_then(|y| x.checked_shr(y))
    })
}
pub fn binary_not(a: &[Value]) -> R {
    Ok(arg_i64(a, 0)
        .map(|x| Value::Long(!x))
        .unwrap_or(Value::Null))
}
pub fn bitset_count_ones(a: &[Value]) -> R {
    Ok(arg_i64(a, 0)
        .map(|x| Value::Long(i64::from(x.count_ones())))
        .unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use crate::functions::test_util::check;
    use crate::value::Value;

    #[test]
    fn math_table() {
        check(&[
            ("abs", vec![Value::Long(-5)], Value::Long(5)),
            ("abs", vec![Value::Real(-1.5)], Value::Real(1.5)),
            ("abs", vec![Value::Null], Value::Null),
            ("round", vec![Value::Real(2.5)], Value::Real(3.0)),
            ("round", vec![Value::Real(-2.5)], Value::Real(-3.0)),
            (
                "round",
                vec![Value::Real(2.567), Value::Long(2)],
                Value::Real(2.57),
            ),
            ("round", vec![Value::Long(7)], Value::Long(7)),
            ("ceiling", vec![Value::Real(1.2)], Value::Real(2.0)),
            ("sqrt", vec![Value::Long(16)], Value::Real(4.0)),
            ("log10", vec![Value::Long(100)], Value::Real(2.0)),
            ("exp", vec![Value::Long(0)], Value::Real(1.0)),
            (
                "pow",
                vec![Value::Long(2), Value::Long(10)],
                Value::Real(1024.0),
            ),
            ("sign", vec![Value::Long(-3)], Value::Real(-1.0)),
            ("abs", vec![Value::Int(-3)], Value::Long(3)),
            ("isnan", vec![Value::Real(f64::NAN)], Value::Bool(true)),
            ("isinf", vec![Value::Real(f64::INFINITY)], Value::Bool(true)),
            ("isfinite", vec![Value::Real(1.0)], Value::Bool(true)),
            (
                "binary_and",
                vec![Value::Long(6), Value::Long(3)],
                Value::Long(2),
            ),
            (
                "binary_or",
                vec![Value::Long(6), Value::Long(3)],
                Value::Long(7),
            ),
            (
                "binary_xor",
                vec![Value::Long(6), Value::Long(3)],
                Value::Long(5),
            ),
            ("binary_not", vec![Value::Long(0)], Value::Long(-1)),
            (
                "binary_shift_left",
                vec![Value::Long(1), Value::Long(4)],
                Value::Long(16),
            ),
            (
                "binary_shift_right",
                vec![Value::Long(16), Value::Long(4)],
                Value::Long(1),
            ),
            (
                "binary_shift_left",
                vec![Value::Long(1), Value::Long(64)],
                Value::Null,
            ),
            ("bitset_count_ones", vec![Value::Long(7)], Value::Long(3)),
            ("binary_and", vec![Value::Null, Value::Long(3)], Value::Null),
        ]);
    }
}
