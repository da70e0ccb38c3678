export type { Database } from "./db.ts";
export { openDatabase } from "./db.ts";
export type { Dialect } from "./dialect.ts";
export { dialectOf } from "./dialect.ts";
export { migrate } from "./migrate.ts";
export type { EventFilter, EventType, SecurityEvent, StoredEvent } from "./events.ts";
export { countMatchingEvents, EVENT_TYPES, insertEvents, listEvents } from "./events.ts";
export type { SessionRecord } from "./sessions.ts";
export { deleteSession, deleteUserSessions, findSession, insertSession, touchSession } from "./sessions.ts";
export type { LockoutWrite, NewUser, UserRow } from "./users.ts";
export {
  compareAndSetLockout, countOtherActiveAdmins, findUserByEmail, findUserById, insertUser,
  findOrInsertUser, lockoutStateOf, markLastFailure, markSignedInUnlessStopped, normalizeEmail, upgradePasswordHash,
} from "./users.ts";
export type { Schema } from "./schema.ts";
export type { StatusFilter, UserListQuery } from "./user-list.ts";
export { listUsers } from "./user-list.ts";
export {
  consumeChallenge, consumeTotpStep, countUnusedRecoveryCodes, deleteUserChallenges, findChallenge, findChallengeUser,
  insertChallenge, replaceRecoveryCodes, useRecoveryCode,
} from "./mfa.ts";
export type { BucketCounts, BucketRange, SourceIp, TargetedAccount, TopSearch, UserCounts } from "./stats.ts";
export { countEventsByBucket, countUsers, topSourceIps, topTargetedAccounts } from "./stats.ts";
export type { ClaimOptions, EnqueueOptions, EnqueueOutcome, MarkSentOutcome, Notice, NoticeBudget, NoticeKind, OutboxRow, OutboxStatus, Recipient } from "./outbox.ts";
export {
  budgetOf, claimDueNotices, enqueueNotices, listNotices, markNoticeFailed, markNoticeSent, NOTICE_KINDS, otherActiveAdmins,
  otherLeaseHolders, releaseNotices, renewNoticeLeases,
} from "./outbox.ts";
export type { NewToken, TokenKind } from "./tokens.ts";
export { consumeToken, deleteTokens, findUsableToken, insertTokens, voidUnusedTokens } from "./tokens.ts";
export { existingEmails, insertUsersSkippingExisting } from "./import.ts";
export type { MigrateOptions } from "./migrate.ts";
export { TablePrefixPlugin } from "./prefix.ts";
export { prepared, statelessPlugin } from "./prepared.ts";
export type { InstanceRecord } from "./instances.ts";
export { forgetSilentInstances, heartbeat, liveInstances, removeInstance } from "./instances.ts";
export type { DeviceRow, DeviceWrite, NewDevice } from "./devices.ts";
export {
  compareAndSetDevice, countUserDevices, deleteUserDevice, deleteUserDevices, deviceStateOf, findDevice, findUserDevice,
  listUserDevices, upsertDevice,
} from "./devices.ts";
export type { DeleteOutcome } from "./user-delete.ts";
export { deleteUserRow, LAST_ADMIN_LOCK } from "./user-delete.ts";
export type { PruneCounts, PruneOptions } from "./retention.ts";
export { PRUNE_BATCH, pruneExpired } from "./retention.ts";
export { isDatabaseUnavailable } from "./unavailable.ts";
