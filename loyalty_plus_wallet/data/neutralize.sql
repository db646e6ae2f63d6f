-- a staging or test copy of the database must never update the passes in live customers' phones:
-- without the Google service-account key and the Apple signing key it can neither call Google
-- Wallet nor push to Apple devices (the IDs stay, so the settings still show what was configured)
UPDATE res_company
   SET loyalty_plus_wallet_google_service_account = NULL,
       loyalty_plus_wallet_apple_key = NULL,
       loyalty_plus_wallet_apple_key_password = NULL
 WHERE loyalty_plus_wallet_google_service_account IS NOT NULL
    OR loyalty_plus_wallet_apple_key IS NOT NULL
    OR loyalty_plus_wallet_apple_key_password IS NOT NULL;
