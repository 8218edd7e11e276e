#!/usr/bin/env node
// Seeded generator of AWS CloudTrail and VPC flow log files, laid out as AWS delivers them to S3.
//
// Every byte depends only on the options: one PRNG per file (seeded from the run seed and the file
// index) so files can be built in any order, gzip headers carry no mtime or name, and no clock is read.
// Used by bench/run.mjs (large data), sample/generate.mjs (the committed sample) and tests (corrupt files).

import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { gzip as gzipCb, gzipSync } from "node:zlib";
import { promisify } from "node:util";

const gzipAsync = promisify(gzipCb);

/** The version-2 default format header line of a VPC flow log file, as AWS writes it. */
export const VPC_HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/** Column names of a version-2 VPC flow log record (the header's names in snake_case). */
export const VPC_FIELDS = /** @type {const} */ ([
  "version",
  "account_id",
  "interface_id",
  "srcaddr",
  "dstaddr",
  "srcport",
  "dstport",
  "protocol",
  "packets",
  "bytes",
  "start",
  "end",
  "action",
  "log_status",
]);

/** Matches a CloudTrail object key relative to the root (groups: account, region, yyyy, mm, dd). */
export const CLOUDTRAIL_PATH_RE =
  /^AWSLogs\/(\d{12})\/CloudTrail\/([a-z]{2}(?:-[a-z]+)+-\d)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail_\2_\3\4\5T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/;

/** Matches a VPC flow log object key relative to the root (groups: account, region, yyyy, mm, dd). */
export const VPC_PATH_RE =
  /^AWSLogs\/(\d{12})\/vpcflowlogs\/([a-z]{2}(?:-[a-z]+)+-\d)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_vpcflowlogs_\2_fl-[0-9a-f]{17}_\3\4\5T\d{4}Z_[0-9a-f]{8}\.log\.gz$/;

const DEFAULTS = {
  seed: 1,
  accounts: 2,
  regions: ["us-east-1", "eu-west-1"],
  start: "2024-01-01T00:00:00Z",
  level: 6,
  corrupt: 0,
  corruptKind: "truncated",
  concurrency: 3,
};

// ---------------------------------------------------------------------------------------------
// PRNG and small random helpers

/**
 * mulberry32: a tiny 32-bit PRNG, plenty for test data and identical on every platform.
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Derives an independent 32-bit seed from a base seed and some integers (splitmix-style mixing).
 * @param {number} seed
 * @param {...number} parts
 */
export function deriveSeed(seed, ...parts) {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX = "0123456789abcdef";
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Random helpers bound to one PRNG. */
class Rand {
  /** @param {() => number} next */
  constructor(next) {
    this.next = next;
  }
  /** Integer in [lo, hi]. @param {number} lo @param {number} hi */
  int(lo, hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** @param {number} p */
  chance(p) {
    return this.next() < p;
  }
  /** @template T @param {readonly T[]} arr @returns {T} */
  pick(arr) {
    return arr[Math.floor(this.next() * arr.length)];
  }
  /** Picks from [item, weight] pairs. @template T @param {readonly (readonly [T, number])[]} pairs @returns {T} */
  weighted(pairs) {
    let total = 0;
    for (const [, w] of pairs) total += w;
    let r = this.next() * total;
    for (const [v, w] of pairs) {
      r -= w;
      if (r < 0) return v;
    }
    return pairs[pairs.length - 1][0];
  }
  /** @param {string} alphabet @param {number} n */
  str(alphabet, n) {
    let s = "";
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
  /** @param {number} n */
  hex(n) {
    return this.str(HEX, n);
  }
  uuid() {
    const h = this.hex(32);
    const variant = HEX[8 + Math.floor(this.next() * 4)];
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  /** A public-looking IPv4 address (skips private, loopback and multicast ranges). */
  publicIp() {
    for (;;) {
      const a = this.int(3, 223);
      const b = this.int(0, 255);
      if (a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b < 128)) continue;
      return `${a}.${b}.${this.int(0, 255)}.${this.int(1, 254)}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Layout (which account, region and hour each file gets)

/** @param {number} n */
const pad2 = (n) => String(n).padStart(2, "0");

/**
 * Deterministic 12-digit account ids for a seed.
 * @param {number} seed
 * @param {number} count
 */
export function accountIds(seed, count) {
  const r = new Rand(mulberry32(deriveSeed(seed, 0xacc0)));
  /** @type {string[]} */
  const out = [];
  while (out.length < count) {
    const id = String(r.int(1, 9)) + r.str("0123456789", 11);
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

/**
 * Where file `index` of `files` goes: files cycle over account × region, and the successive rounds
 * are spread over `days` (default: one round per hour, as many days as that takes).
 * @param {number} index
 * @param {number} files
 * @param {{ accounts: string[], regions: string[], startMs: number, days?: number }} layout
 */
export function fileSlot(index, files, layout) {
  const combos = layout.accounts.length * layout.regions.length;
  const rounds = Math.ceil(files / combos);
  const round = Math.floor(index / combos);
  const combo = index % combos;
  const spanHours = layout.days ? layout.days * 24 : Math.max(rounds, 1);
  const hour = Math.floor((round * spanHours) / rounds);
  return {
    account: layout.accounts[combo % layout.accounts.length],
    region: layout.regions[Math.floor(combo / layout.accounts.length)],
    hourStartMs: layout.startMs + hour * 3_600_000,
  };
}

/** @param {Date} d */
function ymd(d) {
  return { y: String(d.getUTCFullYear()), m: pad2(d.getUTCMonth() + 1), d: pad2(d.getUTCDate()) };
}

// ---------------------------------------------------------------------------------------------
// CloudTrail

const USER_NAMES = ["alice", "bob", "carol", "dave", "ci-deploy", "terraform", "backup-operator", "readonly-auditor"];
const ROLE_NAMES = [
  "OrganizationAccountAccessRole",
  "AWSReservedSSO_AdministratorAccess_3f1c2b9a8d7e6f50",
  "ci-runner",
  "GitHubActionsDeploy",
  "lambda-orders-exec",
  "eks-node-group-role",
  "DatadogIntegrationRole",
];
const SERVICES = [
  "ec2.amazonaws.com",
  "lambda.amazonaws.com",
  "autoscaling.amazonaws.com",
  "cloudformation.amazonaws.com",
  "config.amazonaws.com",
  "elasticloadbalancing.amazonaws.com",
];
const BUCKET_WORDS = ["logs", "artifacts", "backups", "static-assets", "data-lake", "terraform-state", "athena-results"];
const INSTANCE_TYPES = ["t3.micro", "t3.medium", "m5.large", "m6i.xlarge", "c6g.large", "r5.2xlarge"];
/** User agents of human and tool callers, weighted roughly as seen in busy accounts. */
const USER_AGENTS = /** @type {const} */ ([
  ["aws-cli/2.15.8 Python/3.11.6 Linux/5.10.205-195.804.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/{cmd}", 15],
  ["aws-cli/2.13.25 Python/3.11.5 Darwin/23.1.0 exe/x86_64 prompt/off command/{cmd}", 15],
  [
    "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#5.10.205-195.807.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.11",
    10,
  ],
  ["aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.141.0", 10],
  [
    "APN/1.0 HashiCorp/1.0 Terraform/1.6.6 (+https://www.terraform.io) terraform-provider-aws/5.31.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.141.0",
    5,
  ],
  ["aws-sdk-js/3.490.0 ua/2.0 os/linux#5.10.205 lang/js md/nodejs#20.10.0 api/{svc}#3.490.0", 15],
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", 5],
  ["console.amazonaws.com", 15],
  ["AWS Internal", 10],
]);

/**
 * Per account-region state shared by every file of that pair (identities, resources), so the data
 * has the repetition real logs have.
 * @param {number} seed
 * @param {string} account
 * @param {string} region
 */
function ctWorld(seed, account, region) {
  const r = new Rand(mulberry32(deriveSeed(seed, Number(account.slice(-9)), region.length * 131 + region.charCodeAt(3))));
  const users = USER_NAMES.map((userName) => ({ userName, principalId: "AIDA" + r.str(UPPER_ALNUM, 17), accessKeyId: "AKIA" + r.str(UPPER_ALNUM, 16) }));
  const roles = ROLE_NAMES.map((roleName) => ({ roleName, roleId: "AROA" + r.str(UPPER_ALNUM, 17) }));
  const buckets = BUCKET_WORDS.map((w) => `${w}-${account.slice(-6)}-${region}`);
  const instances = Array.from({ length: 12 }, () => "i-0" + r.hex(16));
  const groups = Array.from({ length: 6 }, () => "sg-0" + r.hex(16));
  const subnets = Array.from({ length: 4 }, () => "subnet-0" + r.hex(16));
  const vpcId = "vpc-0" + r.hex(16);
  const keys = Array.from({ length: 3 }, () => r.uuid());
  const functions = ["orders-api", "thumbnailer", "nightly-report", "slack-notifier"];
  const sourceIps = Array.from({ length: 10 }, () => r.publicIp());
  return { account, region, users, roles, buckets, instances, groups, subnets, vpcId, keys, functions, sourceIps };
}

/** @typedef {ReturnType<typeof ctWorld>} CtWorld */
/** @typedef {{ r: Rand, w: CtWorld, t: Date, who: any }} CtCtx */

/** @param {CtCtx} c */
const arnRole = (c, name) => `arn:aws:iam::${c.w.account}:role/${name}`;

/** @param {CtCtx} c */
function s3Bucket(c) {
  return c.r.pick(c.w.buckets);
}

/** @param {CtCtx} c @param {string} bucket */
function s3Extra(c, bucket) {
  return {
    resources: [{ accountId: c.w.account, type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::${bucket}` }],
    additionalEventData: {
      SignatureVersion: "SigV4",
      CipherSuite: "TLS_AES_128_GCM_SHA256",
      bytesTransferredIn: 0,
      AuthenticationMethod: "AuthHeader",
      "x-amz-id-2": c.r.str(B64, 76),
      bytesTransferredOut: c.r.int(0, 4000),
    },
  };
}

/**
 * The event catalogue: [eventSource, eventName, readOnly, weight, build(ctx) → partial record].
 * @type {ReadonlyArray<readonly [string, string, boolean, number, (c: CtCtx) => Record<string, any>]>}
 */
const CT_EVENTS = [
  [
    "ec2.amazonaws.com",
    "DescribeInstances",
    true,
    8,
    (c) => ({
      requestParameters: {
        instancesSet: {},
        filterSet: c.r.chance(0.5)
          ? {
              items: [
                { name: "instance-state-name", valueSet: { items: [{ value: "running" }] } },
                { name: "tag:Environment", valueSet: { items: [{ value: c.r.pick(["prod", "staging", "dev"]) }] } },
              ],
            }
          : {},
      },
      responseElements: null,
    }),
  ],
  ["ec2.amazonaws.com", "DescribeRegions", true, 4, () => ({ requestParameters: { regionSet: {}, allRegions: false }, responseElements: null })],
  [
    "ec2.amazonaws.com",
    "DescribeSecurityGroups",
    true,
    5,
    (c) => ({
      requestParameters: { securityGroupSet: {}, securityGroupIdSet: { items: [{ groupId: c.r.pick(c.w.groups) }] }, filterSet: {} },
      responseElements: null,
    }),
  ],
  [
    "ec2.amazonaws.com",
    "DescribeVolumes",
    true,
    4,
    (c) => ({
      requestParameters: {
        volumeSet: {},
        filterSet: { items: [{ name: "attachment.instance-id", valueSet: { items: [{ value: c.r.pick(c.w.instances) }] } }] },
        maxResults: 500,
      },
      responseElements: null,
    }),
  ],
  [
    "ec2.amazonaws.com",
    "RunInstances",
    false,
    1,
    (c) => {
      const instanceId = "i-0" + c.r.hex(16);
      const ip = `10.${c.r.int(0, 3)}.${c.r.int(0, 255)}.${c.r.int(4, 254)}`;
      const az = c.w.region + c.r.pick(["a", "b", "c"]);
      const type = c.r.pick(INSTANCE_TYPES);
      const imageId = "ami-0" + c.r.hex(16);
      const subnetId = c.r.pick(c.w.subnets);
      const groupId = c.r.pick(c.w.groups);
      return {
        requestParameters: {
          instancesSet: { items: [{ imageId, minCount: 1, maxCount: 1 }] },
          instanceType: type,
          blockDeviceMapping: {},
          monitoring: { enabled: false },
          disableApiTermination: false,
          disableApiStop: false,
          clientToken: c.r.uuid(),
          networkInterfaceSet: { items: [{ deviceIndex: 0, subnetId, associatePublicIpAddress: false, groupSet: { items: [{ groupId }] } }] },
          tagSpecificationSet: { items: [{ resourceType: "instance", tags: [{ key: "Name", value: `worker-${c.r.hex(6)}` }] }] },
        },
        responseElements: {
          requestId: c.r.uuid(),
          reservationId: "r-0" + c.r.hex(16),
          ownerId: c.w.account,
          groupSet: {},
          instancesSet: {
            items: [
              {
                instanceId,
                imageId,
                currentInstanceBootMode: "legacy-bios",
                instanceState: { code: 0, name: "pending" },
                privateDnsName: `ip-${ip.replaceAll(".", "-")}.${c.w.region}.compute.internal`,
                amiLaunchIndex: 0,
                productCodes: {},
                instanceType: type,
                launchTime: c.t.getTime(),
                placement: { availabilityZone: az, tenancy: "default" },
                monitoring: { state: "disabled" },
                subnetId,
                vpcId: c.w.vpcId,
                privateIpAddress: ip,
                stateReason: { code: "pending", message: "pending" },
                architecture: "x86_64",
                rootDeviceType: "ebs",
                rootDeviceName: "/dev/xvda",
                blockDeviceMapping: {},
                virtualizationType: "hvm",
                hypervisor: "xen",
                clientToken: c.r.uuid(),
                groupSet: { items: [{ groupId, groupName: "default" }] },
                sourceDestCheck: true,
                networkInterfaceSet: {
                  items: [
                    {
                      networkInterfaceId: "eni-0" + c.r.hex(16),
                      subnetId,
                      vpcId: c.w.vpcId,
                      ownerId: c.w.account,
                      status: "in-use",
                      privateIpAddress: ip,
                      sourceDestCheck: true,
                      interfaceType: "interface",
                    },
                  ],
                },
                ebsOptimized: false,
                enaSupport: true,
                cpuOptions: { coreCount: 1, threadsPerCore: 2 },
                capacityReservationSpecification: { capacityReservationPreference: "open" },
                enclaveOptions: { enabled: false },
                metadataOptions: {
                  state: "pending",
                  httpTokens: "required",
                  httpPutResponseHopLimit: 2,
                  httpEndpoint: "enabled",
                  httpProtocolIpv4: "ipv4",
                  httpProtocolIpv6: "disabled",
                  instanceMetadataTags: "disabled",
                },
                privateDnsNameOptions: { hostnameType: "ip-name", enableResourceNameDnsARecord: false, enableResourceNameDnsAAAARecord: false },
              },
            ],
          },
        },
      };
    },
  ],
  [
    "ec2.amazonaws.com",
    "StopInstances",
    false,
    1,
    (c) => {
      const instanceId = c.r.pick(c.w.instances);
      return {
        requestParameters: { instancesSet: { items: [{ instanceId }] }, force: false },
        responseElements: {
          requestId: c.r.uuid(),
          instancesSet: { items: [{ instanceId, currentState: { code: 64, name: "stopping" }, previousState: { code: 16, name: "running" } }] },
        },
      };
    },
  ],
  [
    "ec2.amazonaws.com",
    "CreateTags",
    false,
    2,
    (c) => ({
      requestParameters: {
        resourcesSet: { items: [{ resourceId: c.r.pick(c.w.instances) }] },
        tagSet: {
          items: [
            { key: "Owner", value: c.r.pick(USER_NAMES) },
            { key: "CostCenter", value: String(c.r.int(1000, 9999)) },
          ],
        },
      },
      responseElements: { requestId: c.r.uuid(), _return: true },
    }),
  ],
  [
    "ec2.amazonaws.com",
    "AuthorizeSecurityGroupIngress",
    false,
    1,
    (c) => ({
      requestParameters: {
        groupId: c.r.pick(c.w.groups),
        ipPermissions: {
          items: [
            {
              ipProtocol: "tcp",
              fromPort: 443,
              toPort: 443,
              groups: {},
              ipRanges: { items: [{ cidrIp: `${c.r.publicIp()}/32`, description: "office" }] },
              ipv6Ranges: {},
              prefixListIds: {},
            },
          ],
        },
      },
      responseElements: {
        requestId: c.r.uuid(),
        _return: true,
        securityGroupRuleSet: {
          items: [
            {
              groupOwnerId: c.w.account,
              groupId: c.r.pick(c.w.groups),
              securityGroupRuleId: "sgr-0" + c.r.hex(16),
              isEgress: false,
              ipProtocol: "tcp",
              fromPort: 443,
              toPort: 443,
            },
          ],
        },
      },
    }),
  ],
  [
    "s3.amazonaws.com",
    "ListBuckets",
    true,
    3,
    (c) => ({
      requestParameters: { Host: "s3.amazonaws.com" },
      responseElements: null,
      additionalEventData: s3Extra(c, "").additionalEventData,
    }),
  ],
  [
    "s3.amazonaws.com",
    "GetBucketAcl",
    true,
    3,
    (c) => {
      const b = s3Bucket(c);
      return { requestParameters: { bucketName: b, Host: `${b}.s3.${c.w.region}.amazonaws.com`, acl: "" }, responseElements: null, ...s3Extra(c, b) };
    },
  ],
  [
    "s3.amazonaws.com",
    "GetBucketLocation",
    true,
    3,
    (c) => {
      const b = s3Bucket(c);
      return { requestParameters: { bucketName: b, Host: `${b}.s3.${c.w.region}.amazonaws.com`, location: "" }, responseElements: null, ...s3Extra(c, b) };
    },
  ],
  [
    "s3.amazonaws.com",
    "PutBucketPolicy",
    false,
    1,
    (c) => {
      const b = s3Bucket(c);
      return {
        requestParameters: {
          bucketPolicy: {
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
              },
            ],
          },
          bucketName: b,
          Host: `${b}.s3.${c.w.region}.amazonaws.com`,
          policy: "",
        },
        responseElements: null,
        ...s3Extra(c, b),
      };
    },
  ],
  ["iam.amazonaws.com", "GetRole", true, 4, (c) => ({ requestParameters: { roleName: c.r.pick(ROLE_NAMES) }, responseElements: null })],
  [
    "iam.amazonaws.com",
    "ListAttachedRolePolicies",
    true,
    3,
    (c) => ({ requestParameters: { roleName: c.r.pick(ROLE_NAMES), maxItems: 100 }, responseElements: null }),
  ],
  [
    "iam.amazonaws.com",
    "GetPolicy",
    true,
    2,
    (c) => ({
      requestParameters: { policyArn: `arn:aws:iam::${c.w.account}:policy/${c.r.pick(["deploy", "read-logs", "kms-use", "s3-writer"])}` },
      responseElements: null,
    }),
  ],
  [
    "iam.amazonaws.com",
    "CreateAccessKey",
    false,
    1,
    (c) => {
      const u = c.r.pick(c.w.users);
      return {
        requestParameters: { userName: u.userName },
        responseElements: {
          accessKey: { userName: u.userName, accessKeyId: "AKIA" + c.r.str(UPPER_ALNUM, 16), status: "Active", createDate: fmtLongDate(c.t) },
        },
      };
    },
  ],
  [
    "iam.amazonaws.com",
    "AttachRolePolicy",
    false,
    1,
    (c) => ({
      requestParameters: {
        roleName: c.r.pick(ROLE_NAMES),
        policyArn: `arn:aws:iam::aws:policy/${c.r.pick(["ReadOnlyAccess", "AmazonS3ReadOnlyAccess", "CloudWatchLogsFullAccess"])}`,
      },
      responseElements: null,
    }),
  ],
  [
    "sts.amazonaws.com",
    "AssumeRole",
    true,
    6,
    (c) => {
      const role = c.r.pick(c.w.roles);
      const session = c.r.pick(["botocore-session-", "aws-go-sdk-", "GitHubActions-", "i-0"]) + c.r.int(100000000, 999999999);
      return {
        requestParameters: { roleArn: arnRole(c, role.roleName), roleSessionName: session, durationSeconds: 3600 },
        responseElements: {
          credentials: {
            accessKeyId: "ASIA" + c.r.str(UPPER_ALNUM, 16),
            sessionToken: "IQoJb3JpZ2luX2VjE" + c.r.str(B64, 180),
            expiration: fmtLongDate(new Date(c.t.getTime() + 3_600_000)),
          },
          assumedRoleUser: { assumedRoleId: `${role.roleId}:${session}`, arn: `arn:aws:sts::${c.w.account}:assumed-role/${role.roleName}/${session}` },
        },
        resources: [{ accountId: c.w.account, type: "AWS::IAM::Role", ARN: arnRole(c, role.roleName) }],
      };
    },
  ],
  ["sts.amazonaws.com", "GetCallerIdentity", true, 9, () => ({ requestParameters: null, responseElements: null })],
  [
    "kms.amazonaws.com",
    "Decrypt",
    true,
    9,
    (c) => {
      const key = `arn:aws:kms:${c.w.region}:${c.w.account}:key/${c.r.pick(c.w.keys)}`;
      return {
        requestParameters: {
          encryptionContext: { "aws:lambda:FunctionArn": `arn:aws:lambda:${c.w.region}:${c.w.account}:function:${c.r.pick(c.w.functions)}` },
          encryptionAlgorithm: "SYMMETRIC_DEFAULT",
        },
        responseElements: null,
        resources: [{ accountId: c.w.account, type: "AWS::KMS::Key", ARN: key }],
      };
    },
  ],
  [
    "kms.amazonaws.com",
    "GenerateDataKey",
    true,
    5,
    (c) => {
      const key = `arn:aws:kms:${c.w.region}:${c.w.account}:key/${c.r.pick(c.w.keys)}`;
      const b = s3Bucket(c);
      return {
        requestParameters: {
          keyId: key,
          encryptionContext: { "aws:s3:arn": `arn:aws:s3:::${b}/${c.r.pick(["AWSLogs", "exports", "tmp"])}/${c.r.hex(12)}.parquet` },
          keySpec: "AES_256",
        },
        responseElements: null,
        resources: [{ accountId: c.w.account, type: "AWS::KMS::Key", ARN: key }],
      };
    },
  ],
  [
    "logs.amazonaws.com",
    "CreateLogStream",
    false,
    3,
    (c) => ({
      requestParameters: { logGroupName: `/aws/lambda/${c.r.pick(c.w.functions)}`, logStreamName: `${fmtYmdSlash(c.t)}/[$LATEST]${c.r.hex(32)}` },
      responseElements: null,
    }),
  ],
  [
    "logs.amazonaws.com",
    "DescribeLogGroups",
    true,
    4,
    () => ({ requestParameters: { logGroupNamePrefix: "/aws/lambda/", limit: 50 }, responseElements: null }),
  ],
  ["lambda.amazonaws.com", "GetFunction20150331v2", true, 2, (c) => ({ requestParameters: { functionName: c.r.pick(c.w.functions) }, responseElements: null })],
  ["lambda.amazonaws.com", "ListFunctions20150331", true, 4, () => ({ requestParameters: null, responseElements: null })],
];

const GLOBAL_SOURCES = new Set(["iam.amazonaws.com"]);

/** "Jan 1, 2024, 1:00:00 AM", the format STS and IAM use in responseElements. @param {Date} d */
function fmtLongDate(d) {
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${months[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h12}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${h < 12 ? "AM" : "PM"}`;
}

/** @param {Date} d */
function fmtYmdSlash(d) {
  const { y, m, d: dd } = ymd(d);
  return `${y}/${m}/${dd}`;
}

/** ISO time without milliseconds, as CloudTrail writes eventTime. @param {Date} d */
function isoSeconds(d) {
  return d.toISOString().slice(0, 19) + "Z";
}

const SERVICE_HEAVY = new Set(["kms.amazonaws.com", "sts.amazonaws.com"]);
const IDENTITY_MIX = /** @type {const} */ ([
  ["AssumedRole", 40],
  ["IAMUser", 25],
  ["AWSService", 35],
]);
const IDENTITY_MIX_SERVICE_HEAVY = /** @type {const} */ ([
  ["AssumedRole", 25],
  ["IAMUser", 5],
  ["AWSService", 70],
]);

/** @param {Rand} r @param {CtWorld} w @param {string} eventSource @param {Date} t */
function ctIdentity(r, w, eventSource, t) {
  // Services calling KMS and STS on their own behalf make up much of real trails, and their records are short.
  const kind = r.weighted(SERVICE_HEAVY.has(eventSource) ? IDENTITY_MIX_SERVICE_HEAVY : IDENTITY_MIX);
  if (kind === "AWSService") {
    const svc = r.pick(SERVICES);
    return { userIdentity: { type: "AWSService", invokedBy: svc }, sourceIPAddress: svc, userAgent: svc, service: true };
  }
  const ip = r.chance(0.15) ? `10.${r.int(0, 3)}.${r.int(0, 255)}.${r.int(4, 254)}` : r.pick(w.sourceIps);
  const svcShort = eventSource.split(".")[0];
  const ua = r
    .weighted(USER_AGENTS)
    .replace("{cmd}", `${svcShort}.${r.pick(["describe", "list", "get", "put"])}-${r.pick(["instances", "buckets", "role", "policy"])}`)
    .replace("{svc}", svcShort);
  if (kind === "IAMUser") {
    const u = r.pick(w.users);
    return {
      userIdentity: {
        type: "IAMUser",
        principalId: u.principalId,
        arn: `arn:aws:iam::${w.account}:user/${u.userName}`,
        accountId: w.account,
        accessKeyId: u.accessKeyId,
        userName: u.userName,
      },
      sourceIPAddress: ip,
      userAgent: ua,
      service: false,
    };
  }
  const role = r.pick(w.roles);
  const session = r.chance(0.5) ? r.pick(USER_NAMES) + "@example.com" : `${r.pick(["botocore-session-", "aws-go-sdk-", "i-0"])}${r.int(100000000, 999999999)}`;
  const created = new Date(t.getTime() - r.int(60, 3500) * 1000);
  return {
    userIdentity: {
      type: "AssumedRole",
      principalId: `${role.roleId}:${session}`,
      arn: `arn:aws:sts::${w.account}:assumed-role/${role.roleName}/${session}`,
      accountId: w.account,
      accessKeyId: "ASIA" + r.str(UPPER_ALNUM, 16),
      sessionContext: {
        sessionIssuer: {
          type: "Role",
          principalId: role.roleId,
          arn: `arn:aws:iam::${w.account}:role/${role.roleName}`,
          accountId: w.account,
          userName: role.roleName,
        },
        webIdFederationData: {},
        attributes: { creationDate: isoSeconds(created), mfaAuthenticated: "false" },
      },
    },
    sourceIPAddress: ip,
    userAgent: ua,
    service: false,
  };
}

/**
 * One CloudTrail record at time `t`.
 * @param {Rand} r
 * @param {CtWorld} w
 * @param {Date} t
 * @param {readonly (readonly [number, number])[]} eventWeights [index into CT_EVENTS, weight]
 */
function ctRecord(r, w, t, eventWeights) {
  const [eventSource, eventName, readOnly, , build] = CT_EVENTS[r.weighted(eventWeights)];
  const who = ctIdentity(r, w, eventSource, t);
  const c = { r, w, t, who };
  const body = build(c);
  const failed = !who.service && r.chance(0.04);
  /** @type {Record<string, any>} */
  const rec = {
    eventVersion: r.chance(0.7) ? "1.09" : "1.08",
    userIdentity: who.userIdentity,
    eventTime: isoSeconds(t),
    eventSource,
    eventName,
    awsRegion: GLOBAL_SOURCES.has(eventSource) ? "us-east-1" : w.region,
    sourceIPAddress: who.sourceIPAddress,
    userAgent: who.userAgent,
  };
  if (failed) {
    rec.errorCode = eventSource === "ec2.amazonaws.com" ? "Client.UnauthorizedOperation" : "AccessDenied";
    rec.errorMessage = `User: ${who.userIdentity.arn} is not authorized to perform: ${eventSource.split(".")[0]}:${eventName} because no identity-based policy allows the action`;
  }
  rec.requestParameters = body.requestParameters;
  rec.responseElements = failed ? null : body.responseElements;
  if (body.additionalEventData) rec.additionalEventData = body.additionalEventData;
  rec.requestID = eventSource === "s3.amazonaws.com" ? r.str(UPPER_ALNUM, 16) : r.uuid();
  rec.eventID = r.uuid();
  rec.readOnly = readOnly;
  if (body.resources) rec.resources = body.resources;
  rec.eventType = "AwsApiCall";
  rec.managementEvent = true;
  rec.recipientAccountId = w.account;
  if (who.service && eventSource === "kms.amazonaws.com") rec.sharedEventID = r.uuid();
  rec.eventCategory = "Management";
  if (!who.service) {
    const host = GLOBAL_SOURCES.has(eventSource) ? eventSource : eventSource.replace(".amazonaws.com", `.${w.region}.amazonaws.com`);
    rec.tlsDetails = r.chance(0.8)
      ? { tlsVersion: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256", clientProvidedHostHeader: host }
      : { tlsVersion: "TLSv1.2", cipherSuite: "ECDHE-RSA-AES128-GCM-SHA256", clientProvidedHostHeader: host };
    if (who.userAgent === "console.amazonaws.com" || who.userAgent.startsWith("Mozilla")) rec.sessionCredentialFromConsole = "true";
  }
  return rec;
}

/**
 * Builds one CloudTrail file: its key (relative to the root) and its JSON text.
 * @param {{ seed: number, index: number, records: number, account: string, region: string, hourStartMs: number }} f
 */
export function buildCloudTrailFile(f) {
  const r = new Rand(mulberry32(deriveSeed(f.seed, 0xc7, f.index)));
  const w = ctWorld(f.seed, f.account, f.region);
  const eventWeights = CT_EVENTS.map((e, i) => /** @type {const} */ ([i, GLOBAL_SOURCES.has(e[0]) && f.region !== "us-east-1" ? 0 : e[3]]));
  const hour = new Date(f.hourStartMs);
  const { y, m, d } = ymd(hour);
  const delivered = `${y}${m}${d}T${pad2(hour.getUTCHours())}${pad2(r.int(0, 11) * 5)}Z`;
  const key = `AWSLogs/${f.account}/CloudTrail/${f.region}/${y}/${m}/${d}/${f.account}_CloudTrail_${f.region}_${delivered}_${r.str(ALNUM, 16)}.json.gz`;
  const records = new Array(f.records);
  for (let i = 0; i < f.records; i++) {
    records[i] = ctRecord(r, w, new Date(f.hourStartMs + r.int(0, 3599) * 1000), eventWeights);
  }
  return { key, text: JSON.stringify({ Records: records }) };
}

// ---------------------------------------------------------------------------------------------
// VPC flow logs

const VPC_PORTS = /** @type {const} */ ([
  [443, 40],
  [80, 10],
  [22, 6],
  [5432, 6],
  [3306, 4],
  [6379, 4],
  [8080, 5],
  [53, 8],
  [123, 2],
  [3389, 2],
]);

/** @param {number} seed @param {string} account @param {string} region */
function vpcWorld(seed, account, region) {
  const r = new Rand(mulberry32(deriveSeed(seed, 0xf1, Number(account.slice(-9)), region.length * 131 + region.charCodeAt(3))));
  const second = r.int(0, 200);
  const enis = Array.from({ length: 16 }, () => ({ id: "eni-" + r.hex(17), ip: `10.${second}.${r.int(0, 15)}.${r.int(4, 254)}` }));
  const peers = Array.from({ length: 40 }, () => r.publicIp());
  return { flowLogId: "fl-" + r.hex(17), enis, peers, second };
}

/**
 * Builds one VPC flow log file: its key and its text (header line then records, each "\n"-terminated).
 * @param {{ seed: number, index: number, records: number, account: string, region: string, hourStartMs: number }} f
 */
export function buildVpcFile(f) {
  const r = new Rand(mulberry32(deriveSeed(f.seed, 0x7f, f.index)));
  const w = vpcWorld(f.seed, f.account, f.region);
  const hour = new Date(f.hourStartMs);
  const { y, m, d } = ymd(hour);
  const delivered = `${y}${m}${d}T${pad2(hour.getUTCHours())}${pad2(r.int(0, 11) * 5)}Z`;
  const key = `AWSLogs/${f.account}/vpcflowlogs/${f.region}/${y}/${m}/${d}/${f.account}_vpcflowlogs_${f.region}_${w.flowLogId}_${delivered}_${r.hex(8)}.log.gz`;
  const h0 = Math.floor(f.hourStartMs / 1000);
  // Starts ascend through the hour, as in a delivered file; capture windows are about a minute.
  const starts = new Array(f.records);
  for (let i = 0; i < f.records; i++) starts[i] = h0 + r.int(0, 3540);
  starts.sort((a, b) => a - b);
  const lines = new Array(f.records + 1);
  lines[0] = VPC_HEADER;
  for (let i = 0; i < f.records; i++) {
    const eni = r.pick(w.enis);
    const start = starts[i];
    const end = Math.min(start + r.int(1, 59), h0 + 3599);
    const status = r.weighted([
      ["OK", 994],
      ["NODATA", 5],
      ["SKIPDATA", 1],
    ]);
    if (status !== "OK") {
      lines[i + 1] = `2 ${f.account} ${eni.id} - - - - - - - ${start} ${end} - ${status}`;
      continue;
    }
    const protocol = r.weighted([
      [6, 80],
      [17, 17],
      [1, 3],
    ]);
    let service = protocol === 1 ? 0 : r.weighted(VPC_PORTS);
    if (protocol === 17 && service !== 53 && service !== 123) service = 53;
    const ephemeral = protocol === 1 ? 0 : r.int(32768, 60999);
    const internal = r.chance(0.3);
    const peer = internal ? `10.${w.second}.${r.int(0, 15)}.${r.int(4, 254)}` : r.pick(w.peers);
    const inbound = r.chance(0.45);
    // Inbound traffic from the internet to admin ports is what security groups reject.
    const reject = inbound && !internal && (service === 22 || service === 3389 || r.chance(0.05));
    const packets = reject ? r.int(1, 3) : Math.max(1, Math.floor(Math.exp(r.next() * 8)));
    const bytes = packets * (protocol === 1 ? 84 : r.int(40, 1500));
    const [src, dst, sport, dport] = inbound ? [peer, eni.ip, ephemeral, service] : [eni.ip, peer, ephemeral, service];
    lines[i + 1] =
      `2 ${f.account} ${eni.id} ${src} ${dst} ${sport} ${dport} ${protocol} ${packets} ${bytes} ${start} ${end} ${reject ? "REJECT" : "ACCEPT"} OK`;
  }
  return { key, text: lines.join("\n") + "\n" };
}

// ---------------------------------------------------------------------------------------------
// Corrupt files, for tests of "a bad file is reported and the run goes on"

/**
 * Writes gzip data cut short (no trailer, part of the deflate stream missing): gunzip fails with
 * "unexpected end of file".
 * @param {string} path
 * @param {string | Buffer} content the uncompressed content to gzip before cutting
 * @param {{ keepFraction?: number, level?: number }} [opts] keepFraction defaults to 0.5
 * @returns {Promise<number>} bytes written
 */
export async function writeTruncatedGzip(path, content, opts = {}) {
  const gz = gzipSync(content, { level: opts.level ?? 6 });
  const keep = Math.max(10, Math.min(gz.length - 9, Math.floor(gz.length * (opts.keepFraction ?? 0.5))));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, gz.subarray(0, keep));
  return keep;
}

/**
 * Writes a well-formed gzip whose content is broken: for JSON the text is cut mid-record; for
 * line formats, malformed lines are inserted after the first two lines.
 * @param {string} path
 * @param {string} content
 * @param {{ kind?: "json" | "lines", level?: number }} [opts] kind defaults to "json" when the path ends in .json.gz
 * @returns {Promise<number>} bytes written
 */
export async function writeBadContentGzip(path, content, opts = {}) {
  const kind = opts.kind ?? (path.endsWith(".json.gz") ? "json" : "lines");
  let bad;
  if (kind === "json") {
    bad = content.slice(0, Math.floor(content.length * 0.6));
  } else {
    const lines = content.split("\n");
    lines.splice(2, 0, "this is not a flow log record", "2 123 eni-x 10.0.0.1");
    bad = lines.join("\n");
  }
  const gz = gzipSync(bad, { level: opts.level ?? 6 });
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, gz);
  return gz.length;
}

// ---------------------------------------------------------------------------------------------
// Dataset generation

/**
 * @typedef {object} GenerateOptions
 * @property {"cloudtrail" | "vpc"} kind
 * @property {string} out root folder; files go under out/AWSLogs/...
 * @property {number} files number of files
 * @property {number} recordsPerFile records (CloudTrail) or lines after the header (VPC) per file
 * @property {number} [seed] PRNG seed; default 1
 * @property {number} [accounts] number of accounts; default 2
 * @property {string[]} [regions] default ["us-east-1", "eu-west-1"]
 * @property {string} [start] first hour, ISO, floored to the hour; default "2024-01-01T00:00:00Z"
 * @property {number} [days] spread the files over this many days; default one round of account × region per hour
 * @property {number} [level] gzip level; default 6
 * @property {number} [corrupt] number of files to write broken (evenly spaced, deterministic); default 0
 * @property {"truncated" | "badcontent" | "mixed"} [corruptKind] default "truncated"
 * @property {number} [concurrency] gzip jobs in flight on the libuv pool; default 3
 * @property {(f: FileInfo) => void} [onFile] called after each file is written
 */

/**
 * @typedef {object} FileInfo
 * @property {string} path key relative to `out` (forward slashes)
 * @property {number} records
 * @property {number} rawBytes
 * @property {number} gzBytes
 * @property {"truncated" | "badcontent"} [corrupt]
 */

/**
 * Which file indexes get corrupted, and how.
 * @param {number} files @param {number} n @param {string} kind
 * @returns {Map<number, "truncated" | "badcontent">}
 */
function corruptPlan(files, n, kind) {
  /** @type {Map<number, "truncated" | "badcontent">} */
  const plan = new Map();
  const count = Math.min(n, files);
  for (let j = 0; j < count; j++) {
    const idx = Math.floor(((j + 0.5) * files) / count);
    plan.set(idx, kind === "mixed" ? (j % 2 === 0 ? "truncated" : "badcontent") : /** @type {any} */ (kind));
  }
  return plan;
}

/**
 * Checks options and fills in defaults.
 * @param {GenerateOptions} o
 */
export function validateGenerateOptions(o) {
  if (o.kind !== "cloudtrail" && o.kind !== "vpc") throw new Error(`kind must be cloudtrail or vpc, got ${o.kind}`);
  if (!o.out) throw new Error("out is required");
  for (const k of /** @type {const} */ (["files", "recordsPerFile"])) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`${k} must be a positive integer, got ${o[k]}`);
  }
  const startMs = Date.parse(o.start ?? DEFAULTS.start);
  if (Number.isNaN(startMs)) throw new Error(`start is not a date: ${o.start}`);
  const regions = o.regions ?? DEFAULTS.regions;
  if (regions.length === 0) throw new Error("regions must not be empty");
  const accounts = o.accounts ?? DEFAULTS.accounts;
  if (!Number.isInteger(accounts) || accounts < 1) throw new Error(`accounts must be a positive integer, got ${accounts}`);
  const corruptKind = o.corruptKind ?? DEFAULTS.corruptKind;
  if (!["truncated", "badcontent", "mixed"].includes(corruptKind)) throw new Error(`corruptKind must be truncated, badcontent or mixed, got ${corruptKind}`);
  return {
    ...o,
    seed: (o.seed ?? DEFAULTS.seed) >>> 0,
    accounts,
    regions,
    startMs: Math.floor(startMs / 3_600_000) * 3_600_000,
    days: o.days,
    level: o.level ?? DEFAULTS.level,
    corrupt: o.corrupt ?? DEFAULTS.corrupt,
    corruptKind,
    concurrency: Math.max(1, o.concurrency ?? DEFAULTS.concurrency),
  };
}

/**
 * Generates a dataset. Same options → same bytes.
 * @param {GenerateOptions} options
 */
export async function generate(options) {
  const o = validateGenerateOptions(options);
  const t0 = performance.now();
  const accounts = accountIds(o.seed, o.accounts);
  const layout = { accounts, regions: o.regions, startMs: o.startMs, days: o.days };
  const plan = corruptPlan(o.files, o.corrupt, o.corruptKind);
  const build = o.kind === "cloudtrail" ? buildCloudTrailFile : buildVpcFile;
  /** @type {FileInfo[]} */
  const fileList = new Array(o.files);
  /** @type {Set<Promise<void>>} */
  const inFlight = new Set();
  const madeDirs = new Set();

  for (let index = 0; index < o.files; index++) {
    const slot = fileSlot(index, o.files, layout);
    const { key, text } = build({ seed: o.seed, index, records: o.recordsPerFile, ...slot });
    const path = join(o.out, key);
    const dir = dirname(path);
    if (!madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      madeDirs.add(dir);
    }
    const rawBytes = Buffer.byteLength(text);
    const corrupt = plan.get(index);
    /** @type {Promise<void>} */
    let job;
    if (corrupt === "truncated") {
      job = writeTruncatedGzip(path, text, { level: o.level }).then((gzBytes) => {
        fileList[index] = { path: key, records: o.recordsPerFile, rawBytes, gzBytes, corrupt };
      });
    } else if (corrupt === "badcontent") {
      job = writeBadContentGzip(path, text, { level: o.level }).then((gzBytes) => {
        fileList[index] = { path: key, records: o.recordsPerFile, rawBytes, gzBytes, corrupt };
      });
    } else {
      // Compression runs on the libuv pool while the next file is built on this thread.
      job = gzipAsync(text, { level: o.level }).then(async (gz) => {
        await writeFile(path, gz);
        fileList[index] = { path: key, records: o.recordsPerFile, rawBytes, gzBytes: gz.length };
      });
    }
    const tracked = job.then(() => {
      inFlight.delete(tracked);
      o.onFile?.(fileList[index]);
    });
    inFlight.add(tracked);
    if (inFlight.size >= o.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);

  let rawBytes = 0;
  let gzBytes = 0;
  for (const f of fileList) {
    rawBytes += f.rawBytes;
    gzBytes += f.gzBytes;
  }
  return {
    kind: o.kind,
    out: o.out,
    seed: o.seed,
    files: o.files,
    recordsPerFile: o.recordsPerFile,
    records: o.files * o.recordsPerFile,
    rawBytes,
    gzBytes,
    accounts,
    regions: o.regions,
    corruptFiles: fileList.filter((f) => f.corrupt).map((f) => ({ path: f.path, kind: f.corrupt })),
    seconds: (performance.now() - t0) / 1000,
    fileList,
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage: node bench/gen/generate.mjs --kind cloudtrail|vpc --out DIR --files N --records-per-file M
         [--seed S] [--accounts A] [--regions r1,r2] [--start 2024-01-01T00:00:00Z] [--days D]
         [--level 6] [--corrupt N] [--corrupt-kind truncated|badcontent|mixed] [--json]`;

/** @param {string[]} argv */
export function parseArgs(argv) {
  /** @type {Record<string, string | boolean>} */
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    const eq = arg.indexOf("=");
    if (eq > 0) a[arg.slice(2, eq)] = arg.slice(eq + 1);
    else if (arg === "--json" || arg === "--help") a[arg.slice(2)] = true;
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      a[arg.slice(2)] = v;
    }
  }
  return a;
}

/** @param {string | boolean | undefined} v */
const num = (v) => (v === undefined ? undefined : Number(v));

/** @param {number} n */
const mb = (n) => (n / 1e6).toFixed(1) + " MB";

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.help) {
    console.log(USAGE);
    return;
  }
  const summary = await generate({
    kind: /** @type {any} */ (a.kind),
    out: /** @type {string} */ (a.out),
    files: /** @type {number} */ (num(a.files)),
    recordsPerFile: /** @type {number} */ (num(a["records-per-file"])),
    seed: num(a.seed),
    accounts: num(a.accounts),
    regions:
      typeof a.regions === "string"
        ? a.regions
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : undefined,
    start: /** @type {string | undefined} */ (a.start),
    days: num(a.days),
    level: num(a.level),
    corrupt: num(a.corrupt),
    corruptKind: /** @type {any} */ (a["corrupt-kind"]),
  });
  const { fileList, ...rest } = summary;
  if (a.json) {
    console.log(JSON.stringify(rest, null, 2));
    return;
  }
  console.log(
    `${rest.kind}: ${rest.files} files, ${rest.records} records, raw ${mb(rest.rawBytes)}, gz ${mb(rest.gzBytes)} ` +
      `(avg ${(rest.rawBytes / rest.records).toFixed(0)} B/record), ${rest.seconds.toFixed(1)} s → ${relative(process.cwd(), rest.out) || "."}`,
  );
  for (const c of rest.corruptFiles) console.log(`  corrupt (${c.kind}): ${c.path}`);
  void fileList;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
