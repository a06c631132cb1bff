export function isColor(c: any): boolean;
export function safeColor(c: any, fallback?: string): any;
