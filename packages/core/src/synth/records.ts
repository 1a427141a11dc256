/**
 * CloudTrail record builders for the synthetic archive, in the shapes real archives hold: the old, transitional
 * and new `userIdentity` of Identity Center users, anonymous failed sign-ins, admin roles, other services.
 */
import { BASE64URL, encode32, fmix32, type Random } from "./random.ts";
import {
  ACCOUNT,
  HIDDEN,
  IDENTITY_STORE_ARN,
  IDENTITY_STORE_ID,
  INSTANCE_ARN,
  REGION,
  reservedRoleName,
  type SynthUser,
} from "./world.ts";

export type Era = "old" | "transitional" | "new";
export type CloudTrailRecord = Record<string, unknown>;

/** Who acts, from where, in which portal session. */
export interface Actor {
  readonly era: Era;
  readonly user: SynthUser;
  /** The portal session; absent in the old era. */
  readonly credentialId?: string;
  readonly ip: string;
  readonly userAgent: string;
}

export type SignInOutcome = "Success" | "Failure";

/** Who a permission set role session is, as its events in the member account name it. */
export interface SynthRoleSessionIdentity {
  readonly account: string;
  /** `AWSReservedSSO_<permission set>_<16 hex>`. */
  readonly role: string;
  /** The role's unique id (`AROA…`), the first half of `principalId`. */
  readonly roleId: string;
  readonly sessionName: string;
  /** Epoch ms, whole seconds: the `AssumeRoleWithSAML` time. */
  readonly creationDate: number;
  /** Where Identity Center issued the role (the region in its path). */
  readonly region: string;
}

/** One API call of a role session: what it did, not who. */
export interface SynthRoleCall {
  readonly eventSource: string;
  readonly eventName: string;
  readonly readOnly: boolean;
  readonly region: string;
  readonly errorCode?: string;
  readonly requestParameters?: unknown;
  readonly responseElements?: unknown;
  readonly additionalEventData?: Record<string, unknown>;
  readonly resources?: unknown[];
  readonly eventType?: string;
}

export function ssoRoleArn(session: SynthRoleSessionIdentity): string {
  return `arn:aws:iam::${session.account}:role/aws-reserved/sso.amazonaws.com/${session.region}/${session.role}`;
}

export function assumedRoleArn(session: SynthRoleSessionIdentity): string {
  return `arn:aws:sts::${session.account}:assumed-role/${session.role}/${session.sessionName}`;
}

const TLS = { tlsVersion: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256" };

/** Drops undefined members, keeping the order in which the record was written. */
function compact(fields: Record<string, unknown>): CloudTrailRecord {
  const out: CloudTrailRecord = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class RecordFactory {
  readonly #rng: Random;
  readonly #salt: number;
  #events = 0;
  #workflows = 0;
  #credentials = 0;

  constructor(rng: Random, seed: number) {
    this.#rng = rng;
    this.#salt = fmix32(seed ^ 0x65766e74);
  }

  /** How many records were built: the next event id is unique as long as this stays under 2^32. */
  get count(): number {
    return this.#events;
  }

  authWorkflowId(): string {
    return this.#rng.uniqueUuid(this.#workflows++, this.#salt ^ 0x77666c77);
  }

  /** An opaque portal-session id (`AAAAAG…`, 80 characters), unique per call. */
  credentialId(): string {
    const unique = encode32(fmix32((this.#credentials++ ^ this.#salt ^ 0x63726564) >>> 0));
    return `AAAAAG${this.#rng.string(34, BASE64URL)}${unique}${this.#rng.string(34, BASE64URL)}`;
  }

  requestId(): string {
    return this.#rng.uuid();
  }

  #base(
    time: number,
    era: Era | "admin",
    fields: {
      userIdentity: Record<string, unknown>;
      eventSource: string;
      eventName: string;
      awsRegion?: string;
      sourceIPAddress: string;
      userAgent: string;
      errorCode?: string;
      errorMessage?: string;
      requestParameters?: unknown;
      responseElements?: unknown;
      additionalEventData?: Record<string, unknown>;
      requestID?: string;
      readOnly: boolean;
      resources?: unknown[];
      eventType: string;
      recipientAccountId?: string;
      serviceEventDetails?: Record<string, unknown>;
      tlsDetails?: Record<string, unknown>;
    },
  ): CloudTrailRecord {
    const eventID = this.#rng.uniqueUuid(this.#events++, this.#salt);
    return compact({
      eventVersion: era === "old" || era === "transitional" ? "1.08" : "1.11",
      userIdentity: fields.userIdentity,
      eventTime: isoSeconds(time),
      eventSource: fields.eventSource,
      eventName: fields.eventName,
      awsRegion: fields.awsRegion ?? REGION,
      sourceIPAddress: fields.sourceIPAddress,
      userAgent: fields.userAgent,
      errorCode: fields.errorCode,
      errorMessage: fields.errorMessage,
      requestParameters: fields.requestParameters ?? null,
      responseElements: fields.responseElements ?? null,
      additionalEventData: fields.additionalEventData,
      requestID: fields.requestID ?? this.requestId(),
      eventID,
      readOnly: fields.readOnly,
      resources: fields.resources,
      eventType: fields.eventType,
      managementEvent: true,
      recipientAccountId: fields.recipientAccountId ?? ACCOUNT,
      serviceEventDetails: fields.serviceEventDetails,
      eventCategory: "Management",
      tlsDetails: fields.tlsDetails,
    });
  }

  /** The identity of an authenticated user in the actor's era. */
  userIdentity(actor: Actor, signIn: boolean): Record<string, unknown> {
    const onBehalfOf = { userId: actor.user.userId, identityStoreArn: IDENTITY_STORE_ARN };
    if (actor.era === "new") {
      return signIn
        ? {
            type: "IdentityCenterUser",
            arn: "",
            accountId: ACCOUNT,
            accessKeyId: "",
            onBehalfOf,
            credentialId: actor.credentialId,
          }
        : { type: "IdentityCenterUser", accountId: ACCOUNT, onBehalfOf, credentialId: actor.credentialId };
    }
    const old = signIn
      ? {
          type: "Unknown",
          principalId: ACCOUNT,
          arn: "",
          accountId: ACCOUNT,
          accessKeyId: "",
          userName: actor.user.userName,
        }
      : {
          type: "Unknown",
          principalId: actor.user.principalId,
          accountId: ACCOUNT,
          userName: actor.user.userName,
        };
    return actor.era === "old" ? old : { ...old, onBehalfOf, credentialId: actor.credentialId };
  }

  /** A sign-in that has not succeeded: no user id from the transitional era on; the typed name before. */
  anonymousIdentity(era: Era, typedName: string): Record<string, unknown> {
    if (era === "old") {
      return {
        type: "Unknown",
        principalId: ACCOUNT,
        arn: "",
        accountId: ACCOUNT,
        accessKeyId: "",
        userName: typedName,
      };
    }
    return { type: "Unknown", arn: "", accountId: ACCOUNT, accessKeyId: "" };
  }

  #loginTo(): string {
    const rng = this.#rng;
    return (
      `https://${IDENTITY_STORE_ID}.awsapps.com/start/?state=${rng.string(96)}%3D%3D` +
      `&auth_code=${rng.string(96, BASE64URL)}&wdc_csrf_token=${rng.string(96)}` +
      `&organization=${IDENTITY_STORE_ID}&region=${REGION}`
    );
  }

  /**
   * A sign-in event. `anonymous` writes a failed sign-in's identity; `typedName` goes to
   * additionalEventData.UserName on challenges (transitional and new eras) or to the old-era userName.
   */
  signIn(
    time: number,
    actor: Actor,
    eventName: "CredentialChallenge" | "CredentialVerification" | "UserAuthentication",
    options: {
      authWorkflowId: string;
      credentialType: string;
      outcome?: SignInOutcome;
      anonymous?: boolean;
      typedName?: string;
      requestID?: string;
      mfaEnrollment?: boolean;
    },
  ): CloudTrailRecord {
    const typedName = options.typedName ?? actor.user.userName;
    const additionalEventData: Record<string, unknown> = { AuthWorkflowID: options.authWorkflowId };
    if (eventName === "UserAuthentication") additionalEventData.LoginTo = this.#loginTo();
    additionalEventData.CredentialType = options.credentialType;
    const namesUser =
      eventName === "CredentialChallenge" ||
      (eventName === "UserAuthentication" && options.credentialType === "EXTERNAL_IDP");
    if (namesUser && options.typedName !== undefined && actor.era !== "old")
      additionalEventData.UserName = typedName;
    if (options.mfaEnrollment === true) additionalEventData.DeviceEnrollmentRequired = "true";
    return this.#base(time, actor.era, {
      userIdentity:
        options.anonymous === true
          ? this.anonymousIdentity(actor.era, typedName)
          : this.userIdentity(actor, true),
      eventSource: "signin.amazonaws.com",
      eventName,
      sourceIPAddress: actor.ip,
      userAgent: actor.userAgent,
      additionalEventData,
      requestID: options.requestID,
      readOnly: false,
      eventType: "AwsServiceEvent",
      serviceEventDetails: { [eventName]: options.outcome ?? "Success" },
    });
  }

  /** An access-portal event; account and role go to serviceEventDetails, never requestParameters. */
  portal(
    time: number,
    actor: Actor,
    eventName: string,
    options: {
      accountId?: string;
      roleName?: string;
      errorCode?: string;
      errorMessage?: string;
      userAgent?: string;
    } = {},
  ): CloudTrailRecord {
    let serviceEventDetails: Record<string, unknown> | undefined;
    if (options.accountId !== undefined) {
      serviceEventDetails =
        options.roleName === undefined
          ? { account_id: options.accountId }
          : { role_name: options.roleName, account_id: options.accountId };
    }
    return this.#base(time, actor.era, {
      userIdentity: this.userIdentity(actor, false),
      eventSource: "sso.amazonaws.com",
      eventName,
      sourceIPAddress: actor.ip,
      userAgent: options.userAgent ?? actor.userAgent,
      errorCode: options.errorCode,
      errorMessage: options.errorMessage,
      readOnly: eventName.startsWith("List") || eventName.startsWith("Get"),
      eventType: "AwsServiceEvent",
      serviceEventDetails,
    });
  }

  /** The CLI device-flow token; secrets hidden as AWS hides them, the device code not. */
  createToken(time: number, actor: Actor, eventSource: string): CloudTrailRecord {
    return this.#base(time, actor.era, {
      userIdentity: this.userIdentity(actor, false),
      eventSource,
      eventName: "CreateToken",
      sourceIPAddress: actor.ip,
      userAgent: actor.user.cli,
      requestParameters: {
        clientId: this.#rng.string(22),
        clientSecret: HIDDEN,
        grantType: "urn:ietf:params:oauth:grant-type:device_code",
        deviceCode: this.#rng.uuid(),
      },
      responseElements: {
        accessToken: HIDDEN,
        tokenType: "Bearer",
        expiresIn: 28800,
        refreshToken: HIDDEN,
        idToken: HIDDEN,
      },
      readOnly: false,
      resources: [{ accountId: ACCOUNT, type: "IdentityStoreId", ARN: IDENTITY_STORE_ID }],
      eventType: "AwsApiCall",
      tlsDetails: { ...TLS, clientProvidedHostHeader: `oidc.${REGION}.amazonaws.com` },
    });
  }

  /** An application's role exchanging its token for one acting as `user` (trusted identity propagation). */
  createTokenWithIam(time: number, era: Era, user: SynthUser, credentialId: string): CloudTrailRecord {
    const role = "ReportingAppRole-7QJZ2K1XW9AB";
    const application = `arn:aws:sso::${ACCOUNT}:application/ssoins-7223a1b2c3d4e5f6/apl-3c5e7a9b1d2f4a6c`;
    return this.#base(time, era, {
      userIdentity: {
        type: "AssumedRole",
        principalId: "AROA3EXAMPLEAPPROLE12:reporting-app",
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/reporting-app`,
        accountId: ACCOUNT,
        accessKeyId: `ASIA${this.#rng.string(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`,
        sessionContext: {
          sessionIssuer: {
            type: "Role",
            principalId: "AROA3EXAMPLEAPPROLE12",
            arn: `arn:aws:iam::${ACCOUNT}:role/${role}`,
            accountId: ACCOUNT,
            userName: role,
          },
          attributes: { creationDate: isoSeconds(time - 2000), mfaAuthenticated: "false" },
        },
      },
      eventSource: "sso-oauth.amazonaws.com",
      eventName: "CreateTokenWithIAM",
      sourceIPAddress: "198.51.100.201",
      userAgent:
        "aws-sdk-js/3.600.0 ua/2.1 os/linux#5.10.219 lang/js md/nodejs#20.15.0 api/sso-oidc#3.600.0 m/E",
      requestParameters: {
        clientId: application,
        grantType: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        scope: ["sso:account:access"],
        assertion: HIDDEN,
      },
      responseElements: {
        accessToken: HIDDEN,
        expiresIn: 3600,
        tokenType: "Bearer",
        issuedTokenType: "urn:ietf:params:oauth:token-type:access_token",
      },
      additionalEventData: {
        "identitystore:UserId": user.userId,
        "identitystore:IdentityStoreArn": IDENTITY_STORE_ARN,
        "identitycenter:CredentialId": credentialId,
      },
      readOnly: false,
      resources: [{ type: "AWS::SSO::Application", ARN: application }],
      eventType: "AwsApiCall",
      tlsDetails: { ...TLS, clientProvidedHostHeader: `oidc.${REGION}.amazonaws.com` },
    });
  }

  /** A user's own MFA-device action from the portal. */
  mfaDevice(
    time: number,
    actor: Actor,
    eventName: string,
    options: { deviceId?: string; errorCode?: string; errorMessage?: string } = {},
  ): CloudTrailRecord {
    const deviceName = eventName.includes("WebAuthn") ? "Security key" : "Authenticator app";
    let requestParameters: unknown = null;
    let responseElements: unknown = null;
    if (eventName.startsWith("Complete")) {
      requestParameters = { deviceName };
      if (options.errorCode === undefined) responseElements = { deviceId: options.deviceId };
    } else if (eventName === "UpdateMfaDeviceForUser")
      requestParameters = { deviceId: options.deviceId, deviceName };
    else if (eventName === "DeleteMfaDeviceForUser") requestParameters = { deviceId: options.deviceId };
    return this.#base(time, actor.era, {
      userIdentity: this.userIdentity(actor, false),
      eventSource: "sso-directory.amazonaws.com",
      eventName,
      sourceIPAddress: actor.ip,
      userAgent: actor.userAgent,
      errorCode: options.errorCode,
      errorMessage: options.errorMessage,
      requestParameters,
      responseElements,
      readOnly: eventName.startsWith("List"),
      eventType: "AwsApiCall",
    });
  }

  /** A directory or permission-set administration call by an admin role. */
  admin(
    time: number,
    eventSource: string,
    eventName: string,
    options: {
      requestParameters?: unknown;
      responseElements?: unknown;
      errorCode?: string;
      errorMessage?: string;
    },
  ): CloudTrailRecord {
    const admin = this.#rng.pick(["dana", "eli", "terraform"]);
    const role = admin === "terraform" ? "TerraformDeploy" : "IdentityCenterAdmin";
    return this.#base(time, "admin", {
      userIdentity: {
        type: "AssumedRole",
        principalId: `AROA3EXAMPLEADMIN1234:${admin}`,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${admin}`,
        accountId: ACCOUNT,
        accessKeyId: `ASIA${this.#rng.string(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`,
        sessionContext: {
          sessionIssuer: {
            type: "Role",
            principalId: "AROA3EXAMPLEADMIN1234",
            arn: `arn:aws:iam::${ACCOUNT}:role/${role}`,
            accountId: ACCOUNT,
            userName: role,
          },
          attributes: {
            creationDate: isoSeconds(time - 600_000),
            mfaAuthenticated: String(admin !== "terraform"),
          },
        },
      },
      eventSource,
      eventName,
      sourceIPAddress: admin === "terraform" ? "198.51.100.10" : "198.51.100.14",
      userAgent: "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.9",
      errorCode: options.errorCode,
      errorMessage: options.errorMessage,
      requestParameters: options.requestParameters,
      responseElements: options.errorCode === undefined ? options.responseElements : null,
      readOnly: false,
      eventType: "AwsApiCall",
      tlsDetails: {
        ...TLS,
        clientProvidedHostHeader: `${eventSource.split(".")[0]}.${REGION}.amazonaws.com`,
      },
    });
  }

  /** `sts:AssumeRoleWithSAML` in the member account, following a GetRoleCredentials (ignored by idc-audit). */
  assumeRoleWithSaml(time: number, user: SynthUser, account: string, roleName: string): CloudTrailRecord {
    const role = reservedRoleName(account, roleName);
    const roleArn = `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/${REGION}/${role}`;
    const providerArn = `arn:aws:iam::${account}:saml-provider/AWSSSO_5b7d9f1a3c5e7a9b_DO_NOT_DELETE`;
    const qualifier = "q2VYh0wE1hT5v3xk8cN0Yp6rJ4s=";
    return this.#base(time, "new", {
      userIdentity: {
        type: "SAMLUser",
        principalId: `${qualifier}:${user.userName}`,
        userName: user.userName,
        identityProvider: qualifier,
      },
      eventSource: "sts.amazonaws.com",
      eventName: "AssumeRoleWithSAML",
      sourceIPAddress: "54.239.28.85",
      userAgent:
        "aws-sdk-java/2.25.60 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc.",
      requestParameters: {
        sAMLAssertionID: `_${this.#rng.uuid()}`,
        roleSessionName: user.userName,
        roleArn,
        principalArn: providerArn,
        durationSeconds: 3600,
      },
      responseElements: {
        assumedRoleUser: {
          assumedRoleId: `AROA3EXAMPLESSOROLE99:${user.userName}`,
          arn: `arn:aws:sts::${account}:assumed-role/${role}/${user.userName}`,
        },
        subject: user.userName,
        subjectType: "persistent",
        audience: "https://signin.aws.amazon.com/saml",
      },
      readOnly: true,
      resources: [
        { accountId: account, type: "AWS::IAM::Role", ARN: roleArn },
        { accountId: account, type: "AWS::IAM::SAMLProvider", ARN: providerArn },
      ],
      eventType: "AwsApiCall",
      recipientAccountId: account,
    });
  }

  /** A call by a user's role session in a member account (ignored by idc-audit). */
  roleSessionCall(
    time: number,
    user: SynthUser,
    account: string,
    roleName: string,
    region: string,
    call: "GetCallerIdentity" | "ListBuckets" | "ConsoleLogin",
  ): CloudTrailRecord {
    const role = reservedRoleName(account, roleName);
    const userIdentity = {
      type: "AssumedRole",
      principalId: `AROA3EXAMPLESSOROLE99:${user.userName}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${user.userName}`,
      accountId: account,
      accessKeyId: `ASIA${this.#rng.string(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`,
      sessionContext: {
        sessionIssuer: {
          type: "Role",
          principalId: "AROA3EXAMPLESSOROLE99",
          arn: `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/${REGION}/${role}`,
          accountId: account,
          userName: role,
        },
        attributes: { creationDate: isoSeconds(time - 60_000), mfaAuthenticated: "false" },
      },
    };
    if (call === "ConsoleLogin") {
      return this.#base(time, "new", {
        userIdentity,
        eventSource: "signin.amazonaws.com",
        eventName: "ConsoleLogin",
        sourceIPAddress: user.ip,
        userAgent: user.browser,
        responseElements: { ConsoleLogin: "Success" },
        additionalEventData: { MobileVersion: "No", MFAUsed: "No" },
        readOnly: false,
        eventType: "AwsConsoleSignIn",
        recipientAccountId: account,
      });
    }
    const s3 = call === "ListBuckets";
    return this.#base(time, "new", {
      userIdentity,
      eventSource: s3 ? "s3.amazonaws.com" : "sts.amazonaws.com",
      eventName: call,
      awsRegion: region,
      sourceIPAddress: user.ip,
      userAgent: user.cli,
      requestParameters: s3 ? { Host: `s3.${region}.amazonaws.com` } : null,
      readOnly: true,
      eventType: "AwsApiCall",
      recipientAccountId: account,
      tlsDetails: { ...TLS, clientProvidedHostHeader: `${s3 ? "s3" : "sts"}.${region}.amazonaws.com` },
    });
  }

  /**
   * `sts:AssumeRoleWithSAML` of Identity Center into a permission set's role, as the member account records it
   * for a `GetRoleCredentials` or `Federate`: called by Identity Center from an AWS address with an AWS SDK for
   * Java, the credentials it issued (an `ASIA…` key) in the response.
   */
  issueRoleCredentials(
    time: number,
    era: Era,
    session: SynthRoleSessionIdentity,
    issuedKey: string,
  ): CloudTrailRecord {
    const roleArn = ssoRoleArn(session);
    const providerArn = `arn:aws:iam::${session.account}:saml-provider/AWSSSO_5b7d9f1a3c5e7a9b_DO_NOT_DELETE`;
    const qualifier = "q2VYh0wE1hT5v3xk8cN0Yp6rJ4s=";
    return this.#base(time, era, {
      userIdentity: {
        type: "SAMLUser",
        principalId: `${qualifier}:${session.sessionName}`,
        userName: session.sessionName,
        identityProvider: qualifier,
      },
      eventSource: "sts.amazonaws.com",
      eventName: "AssumeRoleWithSAML",
      awsRegion: session.region,
      sourceIPAddress: `13.239.${this.#rng.int(0, 255)}.${this.#rng.int(1, 254)}`,
      userAgent:
        "aws-sdk-java/2.46.14 md/io#sync md/http#Apache md/internal ua/2.1 api/STS#2.46.x os/Linux#4.14.355-284.735.amzn2.x86_64 lang/java#17.0.19 md/OpenJDK_64-Bit_Server_VM#17.0.19+11-LTS md/vendor#Amazon.com_Inc. md/en_US m/E,N,AJ",
      requestParameters: {
        sAMLAssertionID: `_${this.#rng.uuid()}`,
        roleSessionName: session.sessionName,
        roleArn,
        principalArn: providerArn,
        durationSeconds: 3600,
      },
      responseElements: {
        credentials: {
          accessKeyId: issuedKey,
          sessionToken: HIDDEN,
          expiration: new Date(time + 3_600_000).toUTCString(),
        },
        assumedRoleUser: {
          assumedRoleId: `${session.roleId}:${session.sessionName}`,
          arn: assumedRoleArn(session),
        },
        subject: session.sessionName,
        subjectType: "persistent",
        audience: "https://signin.aws.amazon.com/saml",
        nameQualifier: qualifier,
      },
      readOnly: true,
      resources: [
        { accountId: session.account, type: "AWS::IAM::Role", ARN: roleArn },
        { accountId: session.account, type: "AWS::IAM::SAMLProvider", ARN: providerArn },
      ],
      eventType: "AwsApiCall",
      recipientAccountId: session.account,
      tlsDetails: { ...TLS, clientProvidedHostHeader: `sts.${session.region}.amazonaws.com` },
    });
  }

  /**
   * A call made with a permission set role session's credentials: `AssumedRole` of the `AWSReservedSSO_*` role,
   * `creationDate` the issuing time, and `onBehalfOf` when `user` is given (most events since 2025).
   */
  roleCall(
    time: number,
    era: Era,
    session: SynthRoleSessionIdentity,
    call: SynthRoleCall & {
      accessKeyId: string;
      sourceIPAddress: string;
      userAgent: string;
      onBehalfOf?: SynthUser;
    },
  ): CloudTrailRecord {
    const userIdentity: Record<string, unknown> = {
      type: "AssumedRole",
      principalId: `${session.roleId}:${session.sessionName}`,
      arn: assumedRoleArn(session),
      accountId: session.account,
      accessKeyId: call.accessKeyId,
      sessionContext: {
        sessionIssuer: {
          type: "Role",
          principalId: session.roleId,
          arn: ssoRoleArn(session),
          accountId: session.account,
          userName: session.role,
        },
        attributes: { creationDate: isoSeconds(session.creationDate), mfaAuthenticated: "false" },
      },
    };
    if (call.onBehalfOf !== undefined) {
      userIdentity.onBehalfOf = { userId: call.onBehalfOf.userId, identityStoreArn: IDENTITY_STORE_ARN };
    }
    const host = call.eventSource.split(".")[0];
    return this.#base(time, era, {
      userIdentity,
      eventSource: call.eventSource,
      eventName: call.eventName,
      awsRegion: call.region,
      sourceIPAddress: call.sourceIPAddress,
      userAgent: call.userAgent,
      errorCode: call.errorCode,
      errorMessage:
        call.errorCode === undefined ? undefined : "User is not authorized to perform this action",
      requestParameters: call.requestParameters,
      responseElements: call.errorCode === undefined ? call.responseElements : null,
      additionalEventData: call.additionalEventData,
      readOnly: call.readOnly,
      resources: call.resources,
      eventType: call.eventType ?? "AwsApiCall",
      recipientAccountId: session.account,
      tlsDetails:
        call.eventType === "AwsConsoleSignIn"
          ? undefined
          : { ...TLS, clientProvidedHostHeader: `${host}.${call.region}.amazonaws.com` },
    });
  }

  /** A random directory-administration event; `fail` gives it an errorCode. */
  randomAdmin(time: number, users: readonly SynthUser[], fail: boolean): CloudTrailRecord {
    const rng = this.#rng;
    const groupId = rng.uuid();
    const directory = rng.chance(0.5) ? "identitystore.amazonaws.com" : "sso-directory.amazonaws.com";
    const kind = rng.int(0, 5);
    const failure = fail
      ? { errorCode: "AccessDeniedException", errorMessage: "User is not authorized to perform this action" }
      : {};
    switch (kind) {
      case 0:
        return this.admin(time, directory, "CreateGroup", {
          requestParameters: { identityStoreId: IDENTITY_STORE_ID, displayName: HIDDEN, description: HIDDEN },
          responseElements: { groupId, identityStoreId: IDENTITY_STORE_ID },
          ...(fail ? { errorCode: "ConflictException", errorMessage: "Duplicate GroupDisplayName" } : {}),
        });
      case 1:
        return this.admin(time, directory, "UpdateGroup", {
          requestParameters: {
            identityStoreId: IDENTITY_STORE_ID,
            groupId,
            operations: [{ attributePath: "displayName", attributeValue: HIDDEN }],
          },
          ...failure,
        });
      case 2:
        return this.admin(time, directory, "CreateGroupMembership", {
          requestParameters: {
            identityStoreId: IDENTITY_STORE_ID,
            groupId,
            memberId: { userId: rng.pick(users).userId },
          },
          responseElements: { membershipId: rng.uuid(), identityStoreId: IDENTITY_STORE_ID },
          ...failure,
        });
      case 3:
        return this.admin(time, directory, "DeleteUser", {
          requestParameters: { identityStoreId: IDENTITY_STORE_ID, userId: rng.uuid() },
          ...(fail ? { errorCode: "ResourceNotFoundException", errorMessage: "USER not found." } : {}),
        });
      case 4: {
        const name = rng.pick(["DataEngineer", "SupportReadOnly", "BillingViewer", "NetworkAdmin"]);
        const permissionSetArn = `arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-${rng.hex(16)}`;
        return this.admin(time, "sso.amazonaws.com", "CreatePermissionSet", {
          requestParameters: { instanceArn: INSTANCE_ARN, name, sessionDuration: "PT8H" },
          responseElements: { permissionSet: { name, permissionSetArn, sessionDuration: "PT8H" } },
          ...failure,
        });
      }
      default: {
        const assignment = {
          targetId: rng.pick(["444455556666", "555566667777", "777788889999"]),
          targetType: "AWS_ACCOUNT",
          permissionSetArn: `arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-${rng.hex(16)}`,
          principalType: "USER",
          principalId: rng.pick(users).userId,
        };
        return this.admin(time, "sso.amazonaws.com", "CreateAccountAssignment", {
          requestParameters: { instanceArn: INSTANCE_ARN, ...assignment },
          responseElements: {
            accountAssignmentCreationStatus: { status: "IN_PROGRESS", requestId: rng.uuid(), ...assignment },
          },
          ...failure,
        });
      }
    }
  }
}
