// The grok pattern library: names a grok pattern can use, each a regular expression that may use other names.
// Written for JavaScript's regex dialect: groups that capture nothing are (?:...), since the compiler captures with
// named groups of its own.

/** The patterns every grok pattern can name, by name. */
export const GROK_PATTERNS: Readonly<Record<string, string>> = {
  // Words, numbers and strings
  USERNAME: "[a-zA-Z0-9._-]+",
  USER: "%{USERNAME}",
  EMAILLOCALPART: "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*",
  EMAILADDRESS: "%{EMAILLOCALPART}@%{HOSTNAME}",
  INT: "[+-]?[0-9]+",
  BASE10NUM: "[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
  NUMBER: "%{BASE10NUM}",
  BASE16NUM: "[+-]?(?:0[xX])?[0-9A-Fa-f]+",
  BASE16FLOAT: "[+-]?(?:0[xX])?(?:[0-9A-Fa-f]+(?:\\.[0-9A-Fa-f]*)?|\\.[0-9A-Fa-f]+)",
  POSINT: "\\b[1-9][0-9]*\\b",
  NONNEGINT: "\\b[0-9]+\\b",
  WORD: "\\b\\w+\\b",
  NOTSPACE: "\\S+",
  SPACE: "\\s*",
  DATA: ".*?",
  GREEDYDATA: ".*",
  QUOTEDSTRING: "\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`(?:[^`\\\\]|\\\\.)*`",
  QS: "%{QUOTEDSTRING}",
  UUID: "[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",

  // Networking
  CISCOMAC: "(?:[A-Fa-f0-9]{4}\\.){2}[A-Fa-f0-9]{4}",
  WINDOWSMAC: "(?:[A-Fa-f0-9]{2}-){5}[A-Fa-f0-9]{2}",
  COMMONMAC: "(?:[A-Fa-f0-9]{2}:){5}[A-Fa-f0-9]{2}",
  MAC: "%{CISCOMAC}|%{WINDOWSMAC}|%{COMMONMAC}",
  IPV4OCTET: "25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]",
  IPV4: "(?<![0-9])(?:(?:%{IPV4OCTET})\\.){3}(?:%{IPV4OCTET})(?![0-9])",
  IPV6HEX: "[0-9A-Fa-f]{1,4}",
  // Longest forms first: an alternative that matches a prefix of the address would otherwise win.
  IPV6: [
    "(?:%{IPV6HEX}:){7}%{IPV6HEX}",
    "(?:%{IPV6HEX}:){1,4}:%{IPV4}",
    "(?:%{IPV6HEX}:){6}%{IPV4}",
    "::(?:[fF]{4}(?::0{1,4})?:)?%{IPV4}",
    "(?:%{IPV6HEX}:){1,6}(?::%{IPV6HEX}){1}",
    "(?:%{IPV6HEX}:){1,5}(?::%{IPV6HEX}){2}",
    "(?:%{IPV6HEX}:){1,4}(?::%{IPV6HEX}){3}",
    "(?:%{IPV6HEX}:){1,3}(?::%{IPV6HEX}){4}",
    "(?:%{IPV6HEX}:){1,2}(?::%{IPV6HEX}){5}",
    "%{IPV6HEX}:(?::%{IPV6HEX}){6}",
    "[fF][eE]80:(?::%{IPV6HEX}){0,4}%[0-9A-Za-z]+",
    "(?:%{IPV6HEX}:){1,7}:",
    ":(?::%{IPV6HEX}){1,7}",
    "::",
  ].join("|"),
  IP: "%{IPV6}|%{IPV4}",
  HOSTNAME: "\\b[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*\\.?",
  IPORHOST: "%{IP}|%{HOSTNAME}",
  HOSTPORT: "%{IPORHOST}:%{POSINT}",

  // Paths and URIs
  UNIXPATH: "(?:/[^/\\s?#]*)+",
  WINPATH: "(?:[A-Za-z]+:|\\\\)(?:\\\\[^\\\\?*]*)+",
  PATH: "%{UNIXPATH}|%{WINPATH}",
  TTY: "/dev/(?:pts|tty(?:[pq])?)(?:\\w+)?/?(?:[0-9]+)",
  URIPROTO: "[A-Za-z][A-Za-z0-9+.-]+",
  URIHOST: "%{IPORHOST}(?::%{POSINT})?",
  URIPATH: "(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\\-]*)+",
  URIPARAM: "\\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\\-\\[\\]<>]*",
  URIPATHPARAM: "%{URIPATH}(?:%{URIPARAM})?",
  URI: "%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?",

  // Dates and times
  MONTH:
    "\\b(?:[Jj]an(?:uary)?|[Ff]eb(?:ruary)?|[Mm]ar(?:ch)?|[Aa]pr(?:il)?|[Mm]ay|[Jj]un(?:e)?|[Jj]ul(?:y)?|[Aa]ug(?:ust)?|[Ss]ep(?:tember)?|[Oo]ct(?:ober)?|[Nn]ov(?:ember)?|[Dd]ec(?:ember)?)\\b",
  MONTHNUM: "0?[1-9]|1[0-2]",
  MONTHNUM2: "0[1-9]|1[0-2]",
  MONTHDAY: "0[1-9]|[12][0-9]|3[01]|[1-9]",
  DAY: "\\b(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)\\b",
  YEAR: "(?:\\d\\d){1,2}",
  HOUR: "2[0123]|[01]?[0-9]",
  MINUTE: "[0-5][0-9]",
  SECOND: "(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?",
  TIME: "(?<![0-9])%{HOUR}:%{MINUTE}(?::%{SECOND})(?![0-9])",
  DATE_US: "%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}",
  DATE_EU: "%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}",
  DATE: "%{DATE_US}|%{DATE_EU}",
  DATESTAMP: "%{DATE}[- ]%{TIME}",
  TZ: "(?:[APMCE][SD]T|UTC)",
  ISO8601_TIMEZONE: "Z|[+-]%{HOUR}(?::?%{MINUTE})",
  ISO8601_SECOND: "%{SECOND}",
  TIMESTAMP_ISO8601: "%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?(?:%{ISO8601_TIMEZONE})?",
  HTTPDATE: "%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}",
  SYSLOGTIMESTAMP: "%{MONTH} +%{MONTHDAY} %{TIME}",

  // Syslog and log levels
  PROG: "[\\x21-\\x5a\\x5c\\x5e-\\x7e]+",
  SYSLOGPROG: "%{PROG:program}(?:\\[%{POSINT:pid:int}\\])?",
  SYSLOGHOST: "%{IPORHOST}",
  SYSLOGFACILITY: "<%{NONNEGINT:facility:int}.%{NONNEGINT:priority:int}>",
  SYSLOGBASE: "%{SYSLOGTIMESTAMP:timestamp} (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:logsource} %{SYSLOGPROG}:",
  SYSLOGLINE: "%{SYSLOGBASE} %{GREEDYDATA:message}",
  LOGLEVEL: [
    "[Aa]lert|ALERT",
    "[Tt]race|TRACE",
    "[Dd]ebug|DEBUG",
    "[Nn]otice|NOTICE",
    "[Ii]nfo(?:rmation)?|INFO(?:RMATION)?",
    "[Ww]arn(?:ing)?|WARN(?:ING)?",
    "[Ee]rr(?:or)?|ERR(?:OR)?",
    "[Cc]rit(?:ical)?|CRIT(?:ICAL)?",
    "[Ff]atal|FATAL",
    "[Ss]evere|SEVERE",
    "[Ee]merg(?:ency)?|EMERG(?:ENCY)?",
  ].join("|"),

  // Web servers: Apache's common and combined formats (also nginx's combined, which writes the same fields)
  HTTPDUSER: "%{EMAILADDRESS}|%{USER}",
  COMMONAPACHELOG:
    '%{IPORHOST:clientip} %{HTTPDUSER:ident} %{HTTPDUSER:auth} \\[%{HTTPDATE:timestamp}\\] "(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest})" %{INT:response:int} (?:%{INT:bytes:int}|-)',
  COMBINEDAPACHELOG: "%{COMMONAPACHELOG} %{QS:referrer} %{QS:agent}",
};
