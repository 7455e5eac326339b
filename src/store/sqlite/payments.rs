//! Recording payments in SQLite: one `BEGIN IMMEDIATE` transaction that
//! inserts the payments, advances paid-through months, cancels the
//! reminders they make moot and credits the reminders that led to them
//! (the shared [`crate::store::payment_sql`]). The planned rows are written
//! one statement each: SQLite runs them in-process, without round trips.

crate::store::payment_sql::payment_queries!(sqlx::Sqlite);

/// Inserts the planned payments and moves the payers' paid-through months.
async fn write_plan(tx: &mut Tx, plan: &PaymentPlan, batch: &PaymentBatch) -> Result<(), StoreError> {
    for p in &plan.inserts {
        sqlx::query(
            "INSERT INTO payments (external_ref, participant_id, amount, months, first_month, last_month, \
             paid_at, channel, source, recorded_at, attribution_secs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&p.external_ref)
        .bind(p.participant_id)
        .bind(p.amount)
        .bind(p.months)
        .bind(p.first_month)
        .bind(p.last_month)
        .bind(p.paid_at)
        .bind(&p.channel)
        .bind(batch.source.as_str())
        .bind(batch.now.timestamp())
        .bind(batch.attribution_secs)
        .execute(&mut **tx)
        .await?;
    }
    for (id, paid_through) in &plan.paid_through {
        sqlx::query("UPDATE participants SET paid_through = $1, updated_at = $2 WHERE id = $3")
            .bind(paid_through)
            .bind(batch.now.timestamp())
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
