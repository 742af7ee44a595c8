/**
 * String checks shared by the JSON and binary codecs.
 * @internal
 */

type WellFormedString = string & { isWellFormed(): boolean };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when `text` has no lone surrogate, i.e. it has a UTF-8 encoding and
 * survives protobuf binary and other languages' JSON parsers unchanged.
 */
export const isWellFormedString: (text: string) => boolean =
  typeof (String.prototype as Partial<WellFormedString>).isWellFormed === 'function'
    ? (text) => (text as WellFormedString).isWellFormed()
    : (text) => !LONE_SURROGATE.test(text);
