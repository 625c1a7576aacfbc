/**
 * Gmail OAuth2: the consent flow of `ingest auth setup`, the encrypted token file, and the
 * credentials provider that refreshes access tokens for the producer.
 *
 * @module
 */

export * from "./oauth_client.ts";
export * from "./setup.ts";
export * from "./revoke.ts";
export * from "./token_info.ts";
export * from "./token_provider.ts";
export * from "./token_store.ts";
export * from "./redis_token_store.ts";
export * from "./token_store_choice.ts";
