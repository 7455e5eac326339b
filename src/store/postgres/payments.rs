//! Recording payments in PostgreSQL: one transaction that locks the payers
//! (in id order, so concurrent imports cannot deadlock), inserts the
//! payments, advances paid-through months, cancels the reminders they make
//! moot and credits the reminders that led to them (the shared
//! [`crate::store::payment_sql`]). The planned rows are written as column
//! arrays, one statement per table.

crate::store::payment_sql::payment_queries!(sqlx::Postgres);

/// Inserts the planned payments and moves the payers' paid-through months.
async fn write_plan(tx: &mut Tx, plan: &PaymentPlan, batch: &PaymentBatch) -> Result<(), StoreError> {
    let ins = &plan.inserts;
    sqlx::query(
        "INSERT INTO payments (external_ref, participant_id, amount, months, first_month, last_month, \
         paid_at, channel, source, recorded_at, attribution_secs) \
         SELECT r, pid, a, m, f, l, at, c, $9, $10, $11 \
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::int[], $5::int[], $6::int[], $7::bigint[], $8::text[]) \
         AS t(r, pid, a, m, f, l, at, c)",
    )
    .bind(ins.iter().map(|p| p.external_ref.clone()).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.participant_id).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.amount).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.months).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.first_month).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.last_month).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.paid_at).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.channel.clone()).collect::<Vec<_>>())
    .bind(batch.source.as_str())
    .bind(batch.now.timestamp())
    .bind(batch.attribution_secs)
    .execute(&mut **tx)
    .await?;
    let (ids, months): (Vec<i64>, Vec<i32>) = plan.paid_through.iter().map(|(id, m)| (*id, *m)).unzip();
    sqlx::query(
        "UPDATE participants p SET paid_through = t.m, updated_at = $3 \
         FROM UNNEST($1::bigint[], $2::int[]) AS t(id, m) WHERE p.id = t.id",
    )
    .bind(ids)
    .bind(months)
    .bind(batch.now.timestamp())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
