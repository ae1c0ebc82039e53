//! How statements reach Postgres: straight through the pool, or, behind a pooler in transaction
//! mode (PgBouncer's `pool_mode = transaction`), each in a transaction of its own.
//!
//! sqlx runs a statement with arguments in two round trips: it prepares the statement (Parse,
//! Describe, Sync), then binds and runs it (Bind, Execute, Sync). A transaction pooler hands a
//! client's server connection back to its pool at every Sync outside a transaction, so the second
//! round trip may reach a server connection that never saw the first: "unnamed prepared statement
//! does not exist", or a same-named statement of another client's. Inside a transaction the
//! pooler keeps the server connection, so with [`Pooler::Transaction`]:
//! - every statement run on [`Db`] itself runs between BEGIN and a COMMIT that is awaited before
//!   the caller goes on (a write is committed when its caller sees it succeed);
//! - those statements are prepared unnamed, and none is cached on the connection: the next
//!   transaction may run on a server connection where another client's statement of the same
//!   name exists, or where ours does not;
//! - [`Db::begin`] is an ordinary transaction, which the pooler keeps on one server connection.
//!   sqlx prepares the statements run in it as named ones and, with its cache off, leaves them on
//!   that server connection, so a transaction first drops whatever statements earlier clients
//!   left there (`DEALLOCATE ALL`) before preparing its own.
//!
//! Code that needs session state (a session-level advisory lock, LISTEN, a plain SET, a
//! temporary table) cannot work through such a pooler; wxlogin uses none, and the migrations,
//! which take a session-level advisory lock, run over `DATABASE_MIGRATION_URL` instead.

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::error::BoxDynError;
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgQueryResult, PgRow, PgStatement, PgTypeInfo,
};
use sqlx::{Describe, Either, Execute, Executor, PgPool, Postgres, Transaction};

use crate::config::Pooler;

/// The connection pool, used the way the pooler in front of Postgres (if any) requires.
/// Cheap to clone. `&Db` is a `PgExecutor`, so every `storage` function takes it.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
    pooler: Pooler,
}

impl Db {
    pub fn new(pool: PgPool, pooler: Pooler) -> Self {
        Self { pool, pooler }
    }

    /// Starts a transaction; through a transaction pooler it holds one server connection.
    pub async fn begin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        if self.pooler == Pooler::Transaction {
            // No arguments: a simple query, so it is not itself prepared.
            (&mut *tx).execute("DEALLOCATE ALL").await?;
        }
        Ok(tx)
    }
}

/// The connect options the pooler needs: through a transaction pooler no statement stays
/// prepared on a connection, and no `extra_float_digits` startup parameter is sent (PgBouncer
/// refuses parameters it does not track unless told to ignore them; wxlogin reads floats in
/// binary, where that setting plays no part).
pub fn connect_options(options: PgConnectOptions, pooler: Pooler) -> PgConnectOptions {
    match pooler {
        Pooler::None => options,
        Pooler::Transaction => options.statement_cache_capacity(0).extra_float_digits(None),
    }
}

impl<'p> Executor<'p> for &'_ Db {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>
    where
        E: 'q + Execute<'q, Postgres>,
    {
        match self.pooler {
            Pooler::None => self.pool.fetch_many(query),
            Pooler::Transaction => {
                let pool = self.pool.clone();
                // The results are gathered before COMMIT, so that none is handed out from a
                // transaction that then fails to commit.
                stream::once(async move {
                    let mut tx = pool.begin().await?;
                    let results: Vec<_> =
                        (&mut *tx).fetch_many(Unnamed(query)).try_collect().await?;
                    tx.commit().await?;
                    Ok::<_, sqlx::Error>(stream::iter(results.into_iter().map(Ok)))
                })
                .try_flatten()
                .boxed()
            }
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        E: 'q + Execute<'q, Postgres>,
    {
        match self.pooler {
            Pooler::None => self.pool.fetch_optional(query),
            Pooler::Transaction => {
                let pool = self.pool.clone();
                Box::pin(async move {
                    let mut tx = pool.begin().await?;
                    let row = (&mut *tx).fetch_optional(Unnamed(query)).await?;
                    tx.commit().await?;
                    Ok(row)
                })
            }
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>> {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<Describe<Postgres>, sqlx::Error>> {
        self.pool.describe(sql)
    }
}

/// A statement prepared unnamed: it lasts until the next statement on its server connection,
/// so it can neither clash with nor be mistaken for another client's.
struct Unnamed<E>(E);

impl<'q, E: Execute<'q, Postgres>> Execute<'q, Postgres> for Unnamed<E> {
    fn sql(&self) -> &'q str {
        self.0.sql()
    }

    fn statement(&self) -> Option<&PgStatement<'q>> {
        self.0.statement()
    }

    fn take_arguments(&mut self) -> Result<Option<PgArguments>, BoxDynError> {
        self.0.take_arguments()
    }

    fn persistent(&self) -> bool {
        false
    }
}
