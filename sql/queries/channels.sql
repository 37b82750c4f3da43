-- name: create_channel
INSERT INTO channels (account_id, kind, name, config, secret_ciphertext, enabled)
VALUES (%(account_id)s, %(kind)s, %(name)s, %(config)s, %(secret_ciphertext)s, %(enabled)s)
RETURNING *;

-- name: list_channels
SELECT * FROM channels
WHERE account_id = %(account_id)s AND id > %(after)s
ORDER BY id
LIMIT %(limit)s;

-- name: get_channel
SELECT * FROM channels WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: update_channel
UPDATE channels SET name = %(name)s, config = %(config)s, secret_ciphertext = %(secret_ciphertext)s,
                    enabled = %(enabled)s
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING *;

-- name: delete_channel
DELETE FROM channels WHERE id = %(id)s AND account_id = %(account_id)s RETURNING id;
