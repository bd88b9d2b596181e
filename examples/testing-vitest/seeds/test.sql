-- Rows every test starts with (part of the template, so in every clone).
INSERT INTO authors (id, email, name) VALUES (1, 'editor@example.com', 'The Editor');
