
CREATE OR REPLACE FUNCTION {schema}.{function}(
    ids uuid[], versions bigint[], topics text[], states bytea[]
) RETURNS bigint[] LANGUAGE plpgsql AS $append$
DECLARE
    head_index bigint;
    head_hash bytea;
    entry bytea;
    topic_bytes bytea;
    indexes bigint[] := '{{}}';
BEGIN
    -- Wait for the writer lock at most eport.append_lock_timeout (10s unless set for the
    -- database or role), then fail with SQLSTATE 55P03 (the API answers 503) instead of
    -- hanging behind a session that holds it. Local: it ends with the calling statement.
    PERFORM set_config('lock_timeout', coalesce(
        nullif(current_setting('eport.append_lock_timeout', true), ''), '10s'), true);
    -- Writers queue here; the lock is released when the calling statement commits.
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    NOTIFY {channel};
    SELECT ledger_index, chain_hash INTO head_index, head_hash
        FROM {schema}.{table} ORDER BY ledger_index DESC LIMIT 1;
    IF NOT FOUND THEN
        head_index := 0;
        head_hash := decode(repeat('00', 32), 'hex');
    END IF;
    FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
        head_index := head_index + 1;
        topic_bytes := convert_to(topics[i], 'UTF8');
        -- ledger_store.proofs.chain.entry_hash and chain_hash, byte for byte.
        entry := sha256(
            convert_to('eport-ledger entry v1', 'UTF8') || decode('00', 'hex')
            || int8send(head_index) || uuid_send(ids[i]) || int8send(versions[i])
            || int4send(octet_length(topic_bytes)) || topic_bytes
            || int8send(octet_length(states[i])::bigint) || states[i]
        );
        head_hash := sha256(
            convert_to('eport-ledger chain v1', 'UTF8') || decode('00', 'hex') || head_hash || entry
        );
        INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state,
                                      ledger_index, entry_hash, chain_hash)
            VALUES (ids[i], versions[i], topics[i], states[i], head_index, entry, head_hash);
        indexes := indexes || head_index;
    END LOOP;
    RETURN indexes;
END
$append$
