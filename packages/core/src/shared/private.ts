/**
 * Modes of what idc-audit creates on the analyst's machine: the data dir, the embedded store's folder, the
 * dead-letter file and the store's endpoint file hold people's names, emails, addresses and rejected records,
 * and the endpoint's token. Readable by their user only, whatever the umask.
 */
export const PRIVATE_DIRECTORY = 0o700;
export const PRIVATE_FILE = 0o600;
