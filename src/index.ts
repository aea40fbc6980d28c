/**
 * cimiento: a typed, secure backend you install, not deploy.
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
export type { Backend, BackendOptions, UsersOf, WithAuthUsers } from "./backend/create-backend.js";
export type { Scope, TransactionScope } from "./backend/scope.js";
export { action } from "./actions/action.js";
export type {
  Action,
  ActionAuth,
  ActionContext,
  ActionDefinition,
  ActionHttp,
  ActionInput,
  ActionOutput,
  ActionsApi,
  AnyAction,
  HttpMethod,
  RegisteredUsers,
  SignUpInput,
} from "./actions/action.js";
export type { BasePrincipal, Principal, Register, RegisteredSchema } from "./access/principal.js";
export type { CollectionAccess, FieldAccess, Operation, Rule, RuleContext, RuleResult } from "./access/rules.js";
export type { CollectionHooks, CommittedChange, HookContext } from "./hooks/hooks.js";
export type { Logger } from "./errors/logger.js";
export type { CorsOptions, HttpOptions } from "./http/options.js";
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
export type { ApiKeyInfo, AuthApi, CreateApiKeyInput, CreateUserInput, Identity, SessionInfo } from "./auth/auth.js";
export { scryptHasher } from "./auth/password.js";
export type { PasswordHasher, ScryptParameters } from "./auth/password.js";
export { logMailer, smtpMailer } from "./auth/mail.js";
export type { AuthEmails, AuthMailContext, MailMessage, Mailer, SmtpOptions } from "./auth/mail.js";
export { memoryRateLimitStore } from "./auth/rate-limit.js";
export type { RateLimitHit, RateLimitStore } from "./auth/rate-limit.js";
export { normalizeEmail, userFields, usersCollection } from "./auth/users.js";
export type { BaseUserFields, DefaultUsers, UserFields } from "./auth/users.js";
export { job } from "./jobs/job.js";
export type { AnyJob, Backoff, Job, JobContext, JobDefinition, JobInput, RegisteredJobs } from "./jobs/job.js";
export type { Enqueue, EnqueuedJob, EnqueueOptions } from "./jobs/enqueue-types.js";
export type { AttemptOutcome, JobAttempt, JobDetails, JobRecord, JobState } from "./jobs/job-record.js";
export type { JobEvent, JobEventListener } from "./jobs/events.js";
export type { DrainResult, JobsApi, ListJobsOptions, PruneJobsOptions } from "./jobs/jobs-api.js";
export type { StopOptions, WorkerOptions } from "./jobs/worker.js";
export { schedule } from "./jobs/schedule.js";
export type { Schedule, ScheduleOptions } from "./jobs/schedule.js";
export type { Clock } from "./jobs/clock.js";
export type { CollectionApi, DataApi } from "./data/collection-api.js";
export type { Limits } from "./data/limits.js";
export type { DatabaseAdapter } from "./dialects/dialect.js";
export { ApiError, ERROR_CODES, toApiError } from "./errors/api-error.js";
export { defineErrors } from "./errors/define-errors.js";
export type { ErrorFactories } from "./errors/define-errors.js";
export type { ErrorCode, FieldIssue } from "./errors/api-error.js";
export { SchemaError } from "./errors/schema-error.js";
export { MigrationError } from "./migrate/migrate.js";
export type { MigrateOptions, MigrationResult, RefusedChange, SchemaChange } from "./migrate/migrate.js";
export { collection } from "./schema/collection.js";
export type { AnyCollection, Collection, CollectionDefinition, Fields, IndexDefinition } from "./schema/collection.js";
export { Computed, field, Field, HasMany } from "./schema/field.js";
export type {
  AnyField,
  BaseFieldState,
  ComputedWhere,
  FieldKind,
  FieldState,
  GeneratedFieldState,
  OnDelete,
  SlugOptions,
  WithFieldState,
} from "./schema/field.js";
export type {
  BooleanFilter,
  CollectionWhere,
  ColumnKeys,
  ComputedKeys,
  CreateInput,
  CreateInputOf,
  DB,
  DialectName,
  Include,
  IncludeMany,
  IncludeOne,
  Infer,
  InferFields,
  JsonFilter,
  ListOptions,
  LooseRecord,
  OrderBy,
  OrderedFilter,
  Page,
  Readable,
  ReadableFields,
  ReadOptions,
  RecordOf,
  RelationFilter,
  Relations,
  Schema,
  SelectableKeys,
  SortDirection,
  TextFilter,
  ToMany,
  ToOne,
  UpdateInput,
  UpdateInputOf,
  Visibility,
  Where,
} from "./schema/types.js";
