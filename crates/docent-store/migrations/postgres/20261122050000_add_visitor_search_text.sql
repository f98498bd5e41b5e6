-- Visitor search matches a lowercase copy written by Docent (Unicode-aware), because SQLite's
-- LOWER() folds ASCII only: both backends then find "Élodie" with "élodie".
ALTER TABLE visitors ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE visitors SET search_text = LOWER(COALESCE(email, '') || ' ' || COALESCE(display_name, '') || ' ' || COALESCE(external_id, ''));
