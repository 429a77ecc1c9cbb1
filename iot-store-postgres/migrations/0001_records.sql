-- Every record a platform machine keeps: under a space (the kind of
-- record: "siot", "osap-keys", ...) and a key, with its version, one more
-- at every write. A write names the version it read (compare-and-set).
CREATE TABLE iot_records (
    space   TEXT   NOT NULL,
    key     TEXT   NOT NULL,
    version BIGINT NOT NULL CHECK (version > 0),
    record  JSONB  NOT NULL,
    PRIMARY KEY (space, key)
);
