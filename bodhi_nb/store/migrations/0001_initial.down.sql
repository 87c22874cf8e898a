DROP TABLE IF EXISTS chat_messages;
DROP TABLE IF EXISTS secrets;
DROP TABLE IF EXISTS sessions;
DROP TABLE IF EXISTS api_tokens;
DROP TABLE IF EXISTS api_model_aliases;
DROP TABLE IF EXISTS user_access_requests;
DROP TABLE IF EXISTS download_requests;
