-- Quarterly reports and their approval, the responsibility matrix (issue 21).
-- A report belongs to a reporter (the province '25', a commune's code, or an agency's code from
-- data-builtin/tasks.toml) and a quarter ('2025Q4'). States: nhap (draft) → da_gui (submitted) →
-- da_duyet (approved); tra_lai (returned by the level above) goes back to the reporter. An approved
-- report keeps its figures (JSON) and its files' bytes, so downloads do not change with the data.
CREATE TABLE quarterly_report (
    reporter     TEXT NOT NULL,
    quarter      TEXT NOT NULL CHECK (length(quarter) = 6),
    state        TEXT NOT NULL CHECK (state IN ('nhap', 'da_gui', 'da_duyet', 'tra_lai')),
    figures      TEXT,
    file_pdf     BYTEA,
    file_xlsx    BYTEA,
    file_csv     BYTEA,
    note         TEXT NOT NULL DEFAULT '',
    changed_by   TEXT NOT NULL REFERENCES account (id),
    changed_at   BIGINT NOT NULL,
    approved_at  BIGINT,
    PRIMARY KEY (reporter, quarter)
);
CREATE INDEX quarterly_report_quarter ON quarterly_report (quarter, state);

-- An agency's quarterly update of one task of the matrix (lead or cooperating agency).
CREATE TABLE task_update (
    task_code    TEXT NOT NULL,
    agency_code  TEXT NOT NULL,
    quarter      TEXT NOT NULL CHECK (length(quarter) = 6),
    status       TEXT NOT NULL CHECK (status IN ('chua_bat_dau', 'dang_thuc_hien', 'hoan_thanh', 'cham_tien_do')),
    progress     BIGINT NOT NULL CHECK (progress BETWEEN 0 AND 100),
    evidence     TEXT NOT NULL DEFAULT '',
    evidence_key TEXT,
    updated_by   TEXT NOT NULL REFERENCES account (id),
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (task_code, agency_code, quarter)
);

-- The province confirms a lead the plan does not name explicitly (lead_source = suy_luan).
CREATE TABLE task_lead_confirmation (
    task_code    TEXT PRIMARY KEY,
    confirmed_by TEXT NOT NULL REFERENCES account (id),
    confirmed_at BIGINT NOT NULL
);
