//! A raw SQL statement that Postgres prepares once per connection. diesel's
//! `sql_query` is parsed and planned by Postgres on every execution; the hot
//! statements (the batched refresh) are planned once and then only executed.
use diesel::{
    pg::Pg,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
    sql_types::{Array, BigInt, Nullable, Text, Untyped},
};

/// One parameter of a [`Prepared`] statement.
pub(crate) enum Param<'a> {
    /// `bigint`.
    Int(i64),
    /// `text[]`.
    Texts(Vec<&'a str>),
    /// `bigint[]`.
    Ints(Vec<i64>),
    /// `bigint[]` with NULLs.
    NullableInts(Vec<Option<i64>>),
    /// `text[]` with NULLs.
    NullableTexts(Vec<Option<&'a str>>),
}

/// `sql`, whose `$1`, `$2`, … stand for `params` (each may appear several times), run
/// as a statement diesel caches by its text, so Postgres prepares it once per
/// connection.
pub(crate) struct Prepared<'a> {
    sql: &'static str,
    params: Vec<Param<'a>>,
}

impl<'a> Prepared<'a> {
    /// The statement `sql` with its parameters in `$n` order.
    pub(crate) fn new(sql: &'static str, params: Vec<Param<'a>>) -> Self {
        Prepared { sql, params }
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

impl<Conn> diesel::RunQueryDsl<Conn> for Prepared<'_> {}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        // diesel numbers its own placeholders: every `$n` of the text becomes one,
        // bound to parameter n (a parameter used twice is bound twice).
        let mut rest = self.sql;
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - at - 1);
            let n: usize = rest[at + 1..at + 1 + digits].parse().map_err(|_| {
                diesel::result::Error::QueryBuilderError("`$` without a parameter number".into())
            })?;
            let param = n
                .checked_sub(1)
                .and_then(|i| self.params.get(i))
                .ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError(format!("no parameter ${n}").into())
                })?;
            match param {
                Param::Int(v) => out.push_bind_param::<BigInt, _>(v)?,
                Param::Texts(v) => out.push_bind_param::<Array<Text>, _>(v)?,
                Param::Ints(v) => out.push_bind_param::<Array<BigInt>, _>(v)?,
                Param::NullableInts(v) => out.push_bind_param::<Array<Nullable<BigInt>>, _>(v)?,
                Param::NullableTexts(v) => out.push_bind_param::<Array<Nullable<Text>>, _>(v)?,
            }
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}
