/**
 * cimiento: a typed, secure backend you install, not deploy. This entry is what applications
 * write: the functions and classes, and the types they name in their own code (options, contexts,
 * records and inputs). The type machinery these are built from is in `cimiento/types`.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { collection, createBackend, field } from "cimiento";
 * import { sqlite } from "cimiento/sqlite";
 *
 * const posts = collection("posts", { fields: { title: field.text(z.string().min(1)) } });
 * const backend = createBackend({ database: sqlite({ file: "./data/app.db" }), collections: { posts } });
 * await backend.migrate();
 * await backend.system.data.posts.create({ title: "Hello" });
 * ```
 * @module
 */
export { createBackend } from "./backend/create-backend.js";
export type { Backend, BackendOptions, BackupOptions, BackupResult, CloseOptions, RealtimeApi } from "./backend/create-backend.js";
export type { BackupProgress } from "./dialects/dialect.js";
export type { Scope, Subscription, TransactionScope } from "./define/scope.js";
export type { RealtimeOptions } from "./realtime/realtime-service.js";
export { redisBus } from "./dialects/bus.js";
export type { Bus, RedisClients } from "./dialects/bus.js";
export { action } from "./define/action.js";
export type { Action, ActionAuth, ActionContext, ActionDefinition, ActionHttp, SignUpInput } from "./define/action.js";
export type { ActionInput, ActionOutput } from "./define/handles.js";
export type { Principal, Register } from "./define/principal.js";
export type { CollectionAccess, Operation, Rule, RuleResult } from "./define/rules.js";
export type { FieldAccess } from "./define/field.js";
export type { RuleContext } from "./define/principal.js";
export type { CollectionHooks, CommittedChange, HookContext } from "./define/hooks.js";
export type { Logger } from "./define/logger.js";
export type { CorsOptions, HttpOptions, OpenApiHttpOptions } from "./http/options.js";
export type {
  JsonSchema,
  OpenApiContent,
  OpenApiDocument,
  OpenApiInfo,
  OpenApiMethod,
  OpenApiOperation,
  OpenApiOptions,
  OpenApiParameter,
  OpenApiPathItem,
  OpenApiRequestBody,
  OpenApiResponse,
  OpenApiSecurityRequirement,
  OpenApiSecurityScheme,
  OpenApiServer,
} from "./openapi/document.js";
export type {
  AuthLinks,
  AuthOptions,
  BuiltInAuthOptions,
  Duration,
  HostAuthOptions,
  PasswordOptions,
  RateLimit,
  RateLimitOptions,
  SessionCookieOptions,
  SessionOptions,
} from "./auth/options.js";
export type {
  ApiKeyInfo,
  AuthApi,
  CreateApiKeyInput,
  CreateUserInput,
  Identity,
  PasswordOrHash,
  RequestCaller,
  SessionInfo,
  SessionRequest,
  SessionRequestOptions,
} from "./define/auth-api.js";
export { scryptHasher } from "./auth/password.js";
export type { PasswordHasher, ScryptParameters } from "./auth/password.js";
export { logMailer, smtpMailer } from "./auth/mail.js";
export type { AuthEmails, AuthMailContext, MailMessage, Mailer, SmtpOptions } from "./auth/mail.js";
export { memoryRateLimitStore } from "./auth/rate-limit.js";
export type { RateLimitHit, RateLimitStore } from "./auth/rate-limit.js";
export { normalizeEmail, userFields, usersCollection } from "./define/users.js";
export { job } from "./define/job.js";
export type { Backoff, Job, JobContext, JobDefinition } from "./define/job.js";
export type { JobInput } from "./define/handles.js";
export type { Enqueue, EnqueuedJob, EnqueueMany, EnqueueManyOptions, EnqueueOptions } from "./define/enqueue.js";
export type { AttemptOutcome, JobAttempt, JobDetails, JobRecord, JobState } from "./jobs/job-record.js";
export type { JobEvent, JobEventListener } from "./jobs/events.js";
export type { DrainResult, JobsApi, ListJobsOptions, PruneJobsOptions } from "./jobs/jobs-api.js";
export type { StopOptions, WorkerOptions } from "./jobs/jobs-api.js";
export { schedule } from "./define/schedule.js";
export type { Schedule, ScheduleOptions } from "./define/schedule.js";
export type { Clock } from "./define/clock.js";
export type { CollectionApi, DataApi } from "./define/scope.js";
export type { Limits } from "./data/limits.js";
export type { DatabaseAdapter } from "./dialects/dialect.js";
export { ApiError, ERROR_CODES, toApiError } from "./errors/api-error.js";
export { defineErrors } from "./errors/define-errors.js";
export type { ErrorCode, FieldIssue } from "./errors/api-error.js";
export { SchemaError } from "./errors/schema-error.js";
export { MigrationError } from "./migrate/migrate.js";
export type { MigrateOptions, MigrationResult, RefusedChange, SchemaChange } from "./migrate/migrate.js";
export { collection } from "./define/collection.js";
export type { CollectionDefinition } from "./define/collection.js";
export type { Collection, IndexDefinition } from "./define/types.js";
export { Computed, field, Field, HasMany } from "./define/field.js";
export type { OnDelete, SlugOptions } from "./define/field.js";
export type {
  CreateInput,
  DB,
  Include,
  Infer,
  ListOptions,
  OrderBy,
  Page,
  Readable,
  ReadOptions,
  SortDirection,
  SubscribeOptions,
  SubscriptionEndReason,
  SubscriptionEvent,
  UpdateInput,
  Where,
} from "./define/types.js";
